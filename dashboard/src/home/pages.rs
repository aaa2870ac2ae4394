//! The dashboard's home page.

use askama::Template;
use petbridge_domain::{
    Platform, activity as activity_log, db::entities::activity, deliveries::outbox, kernel::permissions::Permission,
    practices, staff::accounts,
};
use poem::{Response, handler, web::Data};

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, render, server_error},
};

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    chrome: Chrome,
    practice_code: String,
    time_zone: String,
    staff_count: usize,
    delivery_counts: Vec<(String, i64)>,
    /// Only for those who may read the activity log.
    activity: Option<Vec<activity::Model>>,
}

#[handler]
pub(crate) async fn home(StaffPage(principal): StaffPage, platform: Data<&Platform>) -> poem::Result<Response> {
    let scope = principal.scope();
    let practice = practices::get(&platform, scope).await.map_err(server_error)?;
    let template = HomeTemplate {
        chrome: Chrome::new(&platform, &principal, "home").await?,
        practice_code: practice.slug,
        time_zone: practice.time_zone.name().to_owned(),
        staff_count: accounts::list(&platform, scope).await.map_err(server_error)?.len(),
        delivery_counts: outbox::counts(&platform, scope).await.map_err(server_error)?,
        activity: if principal.level.grants(Permission::ActivityLogView) {
            Some(activity_log::recent(&platform, scope, 10).await.map_err(server_error)?)
        } else {
            None
        },
    };
    render(&template)
}
