//! The Performance page.

use askama::Template;
use petbridge_domain::{Platform, kernel::permissions::Permission, performance};
use poem::{
    Response, handler,
    web::{Data, Query},
};

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, DoneQuery, refuse, render, server_error},
};

#[derive(Template)]
#[template(path = "performance.html")]
struct PerformanceTemplate {
    chrome: Chrome,
    time_zone: String,
    rows: Vec<performance::StaffPerformance>,
    /// What each sale earns.
    points: petbridge_domain::kernel::practice::PlanPoints,
    notice: Option<String>,
}

/// Plan points against goals.
#[handler]
pub(crate) async fn performance_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<DoneQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::PerformanceManage).await? {
        return Ok(refused);
    }
    let practice = petbridge_domain::practices::get(&platform, principal.scope()).await.map_err(server_error)?;
    let rows = performance::report(&platform, principal.scope()).await.map_err(server_error)?;
    render(&PerformanceTemplate {
        chrome: Chrome::new(&platform, &principal, "performance").await?,
        time_zone: practice.time_zone.name().to_owned(),
        rows,
        points: practice.settings.plan_points,
        notice: query.done,
    })
}
