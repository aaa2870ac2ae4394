//! The owner app's API, `/api/app/v1`. Its OpenAPI document is the contract
//! app developers generate their client from.

use petbridge_domain::{Platform, services::practices};
use petbridge_http::{ApiError, ApiResult};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

/// The version the app API document carries.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The owner app API.
pub struct AppApi;

/// What the app shows before anyone logs in: the practice it is branded for.
#[derive(Debug, Object)]
pub struct PublicPractice {
    /// The practice code the app was built with.
    pub code: String,
    /// The practice's name.
    pub name: String,
    /// Its IANA time zone; appointment times are shown in it.
    pub time_zone: String,
}

#[OpenApi]
impl AppApi {
    /// The practice this app is branded for.
    #[oai(path = "/practices/:code", method = "get", operation_id = "getPractice")]
    async fn practice(&self, platform: Data<&Platform>, code: Path<String>) -> ApiResult<Json<PublicPractice>> {
        let practice = practices::find_by_slug(&platform, &code.0).await?.ok_or_else(ApiError::not_found)?;
        Ok(Json(PublicPractice {
            code: practice.slug,
            name: practice.name,
            time_zone: practice.time_zone.name().to_owned(),
        }))
    }
}
