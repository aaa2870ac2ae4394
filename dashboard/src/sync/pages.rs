//! The PMS sync page: keys and recent batches.

use askama::Template;
use petbridge_domain::{
    Platform,
    db::entities::sync_key,
    kernel::permissions::Permission,
    sync::{self, BatchReport},
};
use poem::{Response, handler, web::Data};

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, refuse, render, server_error},
};

#[derive(Template)]
#[template(path = "sync.html")]
struct SyncTemplate {
    chrome: Chrome,
    keys: Vec<sync_key::Model>,
    batches: Vec<BatchReport>,
}

async fn sync_view(
    platform: &Platform,
    principal: &petbridge_domain::kernel::caller::StaffPrincipal,
) -> poem::Result<Response> {
    let scope = principal.scope();
    render(&SyncTemplate {
        chrome: Chrome::new(platform, principal, "sync").await?,
        keys: sync::keys(platform, scope).await.map_err(server_error)?,
        batches: sync::batches(platform, scope, 50).await.map_err(server_error)?,
    })
}

/// The PMS sync: keys and recent batches.
#[handler]
pub(crate) async fn sync_page(StaffPage(principal): StaffPage, platform: Data<&Platform>) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::AdminTools).await? {
        return Ok(refused);
    }
    sync_view(&platform, &principal).await
}
