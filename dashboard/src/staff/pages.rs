//! The View All Users page and the staff member's own profile page.

use askama::Template;
use petbridge_domain::{
    DomainError, Platform,
    db::entities::staff_user,
    kernel::{
        caller::StaffPrincipal,
        permissions::{Permission, SecurityLevel},
    },
    staff::{
        accounts::{self},
        two_factor,
    },
};
use petbridge_http::RequestContext;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Form, Query},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, DoneQuery, csrf_ok, people_message, refuse, render, server_error},
};

/// A row of View All Users as the page shows it.
struct UserView {
    user: staff_user::Model,
    failed_last_two_days: u64,
    /// Offered no demotion, lock or delete.
    last_administrator: bool,
}

impl UserView {
    fn initials(&self) -> String {
        self.user
            .display_name
            .split_whitespace()
            .filter_map(|w| w.chars().next().filter(|c| c.is_alphanumeric()))
            .take(2)
            .collect::<String>()
            .to_uppercase()
    }

    fn level_label(&self) -> &'static str {
        SecurityLevel::parse(&self.user.level).map_or("?", SecurityLevel::label)
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTemplate {
    chrome: Chrome,
    rows: Vec<UserView>,
    levels: [SecurityLevel; 3],
    self_id: Uuid,
    notice: Option<String>,
}

/// View All Users.
#[handler]
pub(crate) async fn users(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<DoneQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::UsersManage).await? {
        return Ok(refused);
    }
    let rows = accounts::list_with_attempts(&platform, principal.scope()).await.map_err(server_error)?;
    render(&UsersTemplate {
        chrome: Chrome::new(&platform, &principal, "staff").await?,
        rows: rows
            .into_iter()
            .map(|r| UserView {
                user: r.user,
                failed_last_two_days: r.failed_last_two_days,
                last_administrator: r.last_administrator,
            })
            .collect(),
        levels: SecurityLevel::ALL,
        self_id: principal.staff_id,
        notice: query.done,
    })
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfileTemplate {
    chrome: Chrome,
    staff_id: Uuid,
    has_picture: bool,
    display_name: String,
    email: String,
    notice: Option<String>,
    error: Option<String>,
    two_factor_enabled: bool,
    setup: Option<two_factor::Enrolment>,
    recovery_codes: Option<Vec<String>>,
}

/// What the two-factor part of the profile page shows beyond its state.
#[derive(Default)]
struct TwoFactorStep {
    setup: Option<two_factor::Enrolment>,
    recovery_codes: Option<Vec<String>>,
}

async fn profile_page(
    platform: &Platform,
    principal: &StaffPrincipal,
    notice: Option<String>,
    error: Option<String>,
) -> poem::Result<Response> {
    // An enrolment begun (from this page or the API) shows its key until confirmed.
    let setup = two_factor::pending(platform, principal).await.map_err(server_error)?;
    profile_with(platform, principal, notice, error, TwoFactorStep { setup, ..Default::default() }).await
}

async fn profile_with(
    platform: &Platform,
    principal: &StaffPrincipal,
    notice: Option<String>,
    error: Option<String>,
    step: TwoFactorStep,
) -> poem::Result<Response> {
    let me = accounts::get(platform, principal.scope(), principal.staff_id).await.map_err(server_error)?;
    let failed = error.is_some();
    let mut response = render(&ProfileTemplate {
        chrome: Chrome::new(platform, principal, "profile").await?,
        staff_id: me.id,
        has_picture: me.picture_key.is_some(),
        display_name: me.display_name,
        email: me.email.unwrap_or_default(),
        notice,
        error,
        two_factor_enabled: me.totp_enabled_at.is_some(),
        setup: step.setup,
        recovery_codes: step.recovery_codes,
    })?;
    if failed {
        response.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    Ok(response)
}

/// The signed-in staff member's own profile.
#[handler]
pub(crate) async fn profile(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<DoneQuery>,
) -> poem::Result<Response> {
    profile_page(&platform, &principal, query.done, None).await
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
}

/// Confirms enrolment with a code; shows the recovery codes once.
#[handler]
pub(crate) async fn two_factor_confirm(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<CodeForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    match two_factor::confirm(&platform, &principal, &context.origin, &form.code).await {
        Ok(codes) => {
            let step = TwoFactorStep { recovery_codes: Some(codes), ..Default::default() };
            profile_with(&platform, &principal, Some("Two-factor login is on.".to_owned()), None, step).await
        }
        Err(err @ DomainError::Failed(..)) if err.code().kind() == petbridge_domain::Kind::Unprocessable => {
            // Keep the same key on screen so the next code can be tried.
            let setup = two_factor::pending(&platform, &principal).await.map_err(server_error)?;
            let step = TwoFactorStep { setup, ..Default::default() };
            profile_with(&platform, &principal, None, people_message(&err), step).await
        }
        Err(DomainError::Failed(code, _)) if code.kind() == petbridge_domain::Kind::Conflict => {
            profile_page(&platform, &principal, None, None).await
        }
        Err(err) => Err(server_error(err)),
    }
}
