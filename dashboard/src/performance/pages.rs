//! The Performance page.

use askama::Template;
use petbridge_domain::{
    Platform,
    kernel::{caller::StaffPrincipal, permissions::Permission},
    performance,
};
use petbridge_http::RequestContext;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Data, Form, Query, Redirect},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, DoneQuery, csrf_ok, people_message, refuse, render, server_error},
};

#[derive(Template)]
#[template(path = "performance.html")]
struct PerformanceTemplate {
    chrome: Chrome,
    time_zone: String,
    rows: Vec<performance::StaffPerformance>,
    notice: Option<String>,
    error: Option<String>,
}

async fn performance_view(
    platform: &Platform,
    principal: &StaffPrincipal,
    notice: Option<String>,
    error: Option<String>,
) -> poem::Result<Response> {
    let practice = petbridge_domain::practices::get(platform, principal.scope()).await.map_err(server_error)?;
    let rows = performance::report(platform, principal.scope()).await.map_err(server_error)?;
    let failed = error.is_some();
    let mut response = render(&PerformanceTemplate {
        chrome: Chrome::new(platform, principal, "performance").await?,
        time_zone: practice.time_zone.name().to_owned(),
        rows,
        notice,
        error,
    })?;
    if failed {
        response.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    Ok(response)
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
    performance_view(&platform, &principal, query.done, None).await
}

#[derive(Deserialize)]
pub(crate) struct GoalForm {
    csrf: String,
    staff_id: Uuid,
    period: String,
    points: i32,
}

/// Sets a goal from the performance page.
#[handler]
pub(crate) async fn set_goal(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<GoalForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::PerformanceManage).await? {
        return Ok(refused);
    }
    let result = match performance::Period::parse(&form.period) {
        Ok(period) => {
            performance::set_goal(
                &platform,
                principal.scope(),
                &principal.actor(),
                &context.origin,
                form.staff_id,
                period,
                form.points,
            )
            .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Ok(Redirect::see_other("/dashboard/performance?done=Goal%20saved.").into_response()),
        Err(err) => match people_message(&err) {
            Some(message) => performance_view(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}
