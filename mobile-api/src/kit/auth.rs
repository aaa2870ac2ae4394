//! How an app request proves its owner: the access token, checked once per
//! request.

use chrono::NaiveDate;
use petbridge_domain::{Platform, kernel::caller::OwnerPrincipal, owners::accounts, practices};
use petbridge_http::{ApiError, ApiResult};
use poem::{Request, http::StatusCode};
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

pub(crate) async fn household_id(platform: &Platform, auth: &OwnerAuth) -> ApiResult<Uuid> {
    auth.0.require_verified()?;
    Ok(accounts::household(platform, &auth.0).await?.id)
}

/// An access token from login, sign-up or refresh.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_access")]
pub struct OwnerAuth(pub(crate) OwnerPrincipal);

async fn check_access(req: &Request, bearer: Bearer) -> poem::Result<OwnerPrincipal> {
    let platform = req
        .data::<Platform>()
        .ok_or_else(|| poem::Error::from_string("platform missing", StatusCode::INTERNAL_SERVER_ERROR))?;
    accounts::authenticate(platform, &bearer.token)
        .await
        .map_err(|err| poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(err))))
}

pub(crate) async fn today(platform: &Platform, principal: &OwnerPrincipal) -> ApiResult<NaiveDate> {
    Ok(practices::get(platform, principal.scope()).await?.today(platform.clock.now()))
}
