//! What every page shares: the navigation, the chrome around a page,
//! rendering, the refusal page and the CSRF check of a form.

use askama::Template;
use petbridge_domain::{
    Platform,
    kernel::{caller::StaffPrincipal, permissions::Permission},
    practices,
};
use poem::{IntoResponse, Response, http::StatusCode, web::Html};
use serde::Deserialize;

use crate::kit::auth::private_page;

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenTemplate {
    chrome: Chrome,
}

/// The page for someone whose level lacks `permission`, or `None` to go on.
pub(crate) async fn refuse(
    platform: &Platform,
    principal: &StaffPrincipal,
    permission: Permission,
) -> poem::Result<Option<Response>> {
    if principal.level.grants(permission) {
        return Ok(None);
    }
    let mut response = render(&ForbiddenTemplate { chrome: Chrome::new(platform, principal, "home").await? })?;
    response.set_status(StatusCode::FORBIDDEN);
    Ok(Some(response))
}

/// A navigation entry; areas that have not shipped yet show without a link,
/// and areas the signed-in level may not use do not show at all.
pub(crate) struct NavItem {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) href: Option<&'static str>,
    needs: Option<Permission>,
}

const NAV: [NavItem; 13] = [
    NavItem { key: "home", label: "Home", href: Some("/dashboard"), needs: None },
    NavItem { key: "clients", label: "Users", href: Some("/dashboard/clients"), needs: Some(Permission::ClientsView) },
    NavItem { key: "chat", label: "Chat", href: Some("/dashboard/chat"), needs: Some(Permission::ChatView) },
    NavItem { key: "notifications", label: "Notifications", href: None, needs: None },
    NavItem {
        key: "loyalty",
        label: "Loyalty",
        href: Some("/dashboard/loyalty"),
        needs: Some(Permission::ClientsView),
    },
    NavItem {
        key: "plans",
        label: "Wellness plans",
        href: Some("/dashboard/plans"),
        needs: Some(Permission::PlansView),
    },
    NavItem { key: "reports", label: "Reports", href: None, needs: Some(Permission::ReportsMost) },
    NavItem { key: "outbox", label: "Outbox", href: Some("/dashboard/outbox"), needs: Some(Permission::OutboxView) },
    NavItem { key: "staff", label: "Staff", href: Some("/dashboard/users"), needs: Some(Permission::UsersManage) },
    NavItem {
        key: "activity",
        label: "Activity log",
        href: Some("/dashboard/activity"),
        needs: Some(Permission::ActivityLogView),
    },
    NavItem {
        key: "performance",
        label: "Performance",
        href: Some("/dashboard/performance"),
        needs: Some(Permission::PerformanceManage),
    },
    NavItem { key: "sync", label: "PMS sync", href: Some("/dashboard/sync"), needs: Some(Permission::AdminTools) },
    NavItem { key: "docs", label: "API docs", href: Some("/docs"), needs: None },
];

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub(crate) practice_name: String,
    pub(crate) display_name: String,
    pub(crate) level: &'static str,
    pub(crate) csrf: String,
    pub(crate) active: &'static str,
    pub(crate) nav: Vec<&'static NavItem>,
    /// The development providers' warning, on every page while it holds.
    pub(crate) dev_warning: Option<String>,
}

impl Chrome {
    pub(crate) async fn new(
        platform: &Platform,
        principal: &StaffPrincipal,
        active: &'static str,
    ) -> poem::Result<Self> {
        let practice = practices::get(platform, principal.scope()).await.map_err(server_error)?;
        Ok(Self {
            practice_name: practice.name,
            display_name: principal.display_name.clone(),
            level: principal.level.label(),
            csrf: principal.csrf_token.clone(),
            active,
            nav: NAV.iter().filter(|item| item.needs.is_none_or(|p| principal.level.grants(p))).collect(),
            dev_warning: platform.dev_delivery_warning.clone(),
        })
    }
}

pub(crate) fn server_error(err: impl std::fmt::Display) -> poem::Error {
    tracing::error!(error = %err, "page failed");
    poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) fn render(template: &impl Template) -> poem::Result<Response> {
    let html = template.render().map_err(server_error)?;
    Ok(private_page(Html(html).into_response()))
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

/// A service's error as the API would answer it (problem+json, its status).
pub(crate) fn problem(err: petbridge_domain::DomainError) -> poem::Error {
    poem::Error::from_response(poem::IntoResponse::into_response(petbridge_http::ApiError::from(err)))
}

/// The notice a page shows after a form redirected to it.
#[derive(Deserialize)]
pub(crate) struct DoneQuery {
    pub(crate) done: Option<String>,
}
