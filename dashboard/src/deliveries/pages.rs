//! The Outbox page: every delivery and its state.

use askama::Template;
use petbridge_domain::{Cursor, Platform, db::entities::delivery, deliveries::outbox};
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Query, Redirect},
};
use serde::Deserialize;

use crate::kit::{
    auth::{StaffPage, url_encode},
    chrome::{Chrome, render, server_error},
};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxTemplate {
    chrome: Chrome,
    deliveries: Vec<delivery::Model>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct OutboxQuery {
    after: Option<String>,
}

#[handler]
pub(crate) async fn outbox_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<OutboxQuery>,
) -> poem::Result<Response> {
    let after = match query.after.as_deref().map(Cursor::decode).transpose() {
        Ok(after) => after,
        Err(_) => return Ok(Redirect::see_other("/dashboard/outbox").into_response()),
    };
    let page = outbox::list(&platform, principal.scope(), after, 50).await.map_err(server_error)?;
    let template = OutboxTemplate {
        chrome: Chrome::new(&platform, &principal, "outbox").await?,
        deliveries: page.items,
        next: page.next.map(|cursor| url_encode(&cursor.encode())),
    };
    render(&template)
}
