//! The PMS sync page: keys and recent batches.

use askama::Template;
use petbridge_domain::{
    DomainError, Platform,
    db::entities::sync_key,
    kernel::permissions::Permission,
    sync::{self, BatchReport},
};
use petbridge_http::RequestContext;
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Form, Path, Redirect},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, CsrfForm, csrf_ok, refuse, render, server_error},
};

#[derive(Template)]
#[template(path = "sync.html")]
struct SyncTemplate {
    chrome: Chrome,
    keys: Vec<sync_key::Model>,
    batches: Vec<BatchReport>,
    secret: Option<String>,
}

async fn sync_view(
    platform: &Platform,
    principal: &petbridge_domain::kernel::caller::StaffPrincipal,
    secret: Option<String>,
) -> poem::Result<Response> {
    let scope = principal.scope();
    render(&SyncTemplate {
        chrome: Chrome::new(platform, principal, "sync").await?,
        keys: sync::keys(platform, scope).await.map_err(server_error)?,
        batches: sync::batches(platform, scope, 50).await.map_err(server_error)?,
        secret,
    })
}

/// The PMS sync: keys and recent batches.
#[handler]
pub(crate) async fn sync_page(StaffPage(principal): StaffPage, platform: Data<&Platform>) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::AdminTools).await? {
        return Ok(refused);
    }
    sync_view(&platform, &principal, None).await
}

#[derive(Deserialize)]
pub(crate) struct KeyForm {
    csrf: String,
    name: String,
}

/// Create a sync key; the page shows its secret once.
#[handler]
pub(crate) async fn create_key(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<KeyForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::AdminTools).await? {
        return Ok(refused);
    }
    let new = sync::create_key(&platform, principal.scope(), &principal.actor(), &context.origin, &form.name)
        .await
        .map_err(server_error)?;
    sync_view(&platform, &principal, Some(new.secret)).await
}

/// Rotate or revoke a sync key.
#[handler]
pub(crate) async fn key_action(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<CsrfForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::AdminTools).await? {
        return Ok(refused);
    }
    let (scope, actor) = (principal.scope(), principal.actor());
    let secret = match action.as_str() {
        "rotate" => Some(sync::rotate_key(&platform, scope, &actor, &context.origin, id).await),
        "revoke" => {
            sync::revoke_key(&platform, scope, &actor, &context.origin, id).await.map_err(server_error)?;
            None
        }
        _ => return Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
    };
    match secret {
        Some(Ok(new)) => sync_view(&platform, &principal, Some(new.secret)).await,
        Some(Err(DomainError::NotFound)) => Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
        Some(Err(err)) => Err(server_error(err)),
        None => Ok(Redirect::see_other("/dashboard/sync").into_response()),
    }
}
