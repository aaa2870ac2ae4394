//! The Activity page: the log, filtered, and its CSV export.

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Cursor, Platform, activity as activity_log, db::entities::activity as activity_entry,
    kernel::permissions::Permission,
};
use petbridge_http::RequestContext;
use poem::{
    Response, handler,
    http::header,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::kit::{
    auth::{StaffPage, url_encode},
    chrome::{Chrome, refuse, render, server_error},
};

#[derive(Deserialize, Default)]
pub(crate) struct ActivityQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    after: Option<String>,
}

impl ActivityQuery {
    fn day(text: &str) -> Option<DateTime<Utc>> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
    }

    fn filter(&self) -> activity_log::Filter {
        activity_log::Filter {
            action: Some(self.action.trim().to_owned()).filter(|a| !a.is_empty()),
            actor: Some(self.actor.trim().to_owned()).filter(|a| !a.is_empty()),
            from: Self::day(&self.from),
            // "Until" a day includes that day.
            until: Self::day(&self.until).map(|d| d + chrono::Duration::days(1)),
        }
    }

    fn query_string(&self) -> String {
        format!(
            "action={}&actor={}&from={}&until={}",
            url_encode(&self.action),
            url_encode(&self.actor),
            url_encode(&self.from),
            url_encode(&self.until)
        )
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityTemplate {
    chrome: Chrome,
    entries: Vec<activity_entry::Model>,
    next: Option<String>,
    query: String,
    filter_action: String,
    filter_actor: String,
    filter_from: String,
    filter_until: String,
}

/// The activity log, filtered.
#[handler]
pub(crate) async fn activity_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<ActivityQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ActivityLogView).await? {
        return Ok(refused);
    }
    let after = query.after.as_deref().and_then(|a| Cursor::decode(a).ok());
    let page =
        activity_log::list(&platform, principal.scope(), &query.filter(), after, 100).await.map_err(server_error)?;
    render(&ActivityTemplate {
        chrome: Chrome::new(&platform, &principal, "activity").await?,
        entries: page.items,
        next: page.next.map(|c| url_encode(&c.encode())),
        query: query.query_string(),
        filter_action: query.action,
        filter_actor: query.actor,
        filter_from: query.from,
        filter_until: query.until,
    })
}

/// The activity log as CSV, with the page's filters.
#[handler]
pub(crate) async fn activity_export(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Query(query): Query<ActivityQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ActivityLogView).await? {
        return Ok(refused);
    }
    let who = petbridge_domain::kernel::caller::Authorized { actor: principal.actor(), approver: None };
    let csv = activity_log::export_csv(&platform, principal.scope(), &who, &context.origin, &query.filter())
        .await
        .map_err(server_error)?;
    Ok(Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, "attachment; filename=\"activity-log.csv\"")
        .header(header::CACHE_CONTROL, "no-store")
        .body(csv))
}
