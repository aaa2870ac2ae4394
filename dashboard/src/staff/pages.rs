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
        accounts::{self, NewStaff},
        two_factor,
    },
};
use petbridge_http::RequestContext;
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Data, Form, Path, Query, Redirect},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::{StaffPage, url_encode},
    chrome::{Chrome, CsrfForm, DoneQuery, csrf_ok, people_message, refuse, render, server_error},
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
    error: Option<String>,
}

async fn users_page(
    platform: &Platform,
    principal: &StaffPrincipal,
    notice: Option<String>,
    error: Option<String>,
) -> poem::Result<Response> {
    let rows = accounts::list_with_attempts(platform, principal.scope()).await.map_err(server_error)?;
    let failed = error.is_some();
    let mut response = render(&UsersTemplate {
        chrome: Chrome::new(platform, principal, "staff").await?,
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
        notice,
        error,
    })?;
    if failed {
        response.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    Ok(response)
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
    users_page(&platform, &principal, query.done, None).await
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    csrf: String,
    username: String,
    display_name: String,
    #[serde(default)]
    email: String,
    level: String,
    password: String,
}

fn done(message: &str) -> Response {
    Redirect::see_other(format!("/dashboard/users?done={}", url_encode(message))).into_response()
}

/// Adds a user from the form on View All Users.
#[handler]
pub(crate) async fn add_user(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<NewUserForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::UsersManage).await? {
        return Ok(refused);
    }
    let level = match SecurityLevel::parse(&form.level) {
        Ok(level) => level,
        Err(err) => return users_page(&platform, &principal, None, people_message(&err)).await,
    };
    let new = NewStaff {
        username: form.username,
        display_name: form.display_name,
        email: Some(form.email),
        level,
        password: form.password,
    };
    match accounts::create(&platform, principal.scope(), &principal.actor(), &context.origin, new).await {
        Ok(user) => Ok(done(&format!("Added {} ({}).", user.username, level.label()))),
        Err(err) => match people_message(&err) {
            Some(message) => users_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct EditUserForm {
    csrf: String,
    display_name: String,
    #[serde(default)]
    email: String,
    /// Not offered for the practice's only administrator.
    level: Option<String>,
}

/// Saves an edit from View All Users.
#[handler]
pub(crate) async fn edit_user(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Path(id): Path<Uuid>,
    Form(form): Form<EditUserForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::UsersManage).await? {
        return Ok(refused);
    }
    let result = match form.level.as_deref().map(SecurityLevel::parse).transpose() {
        Ok(level) => {
            let changes =
                accounts::StaffChanges { display_name: Some(form.display_name), email: Some(form.email), level };
            accounts::update(&platform, principal.scope(), &principal.actor(), None, &context.origin, id, changes).await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(user) => Ok(done(&format!("Saved {}.", user.username))),
        Err(DomainError::NotFound) => Err(poem::Error::from_status(StatusCode::NOT_FOUND)),
        Err(err) => match people_message(&err) {
            Some(message) => users_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}

/// Lock, unlock or delete a user.
#[handler]
pub(crate) async fn user_action(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<CsrfForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    if let Some(refused) = refuse(&platform, &principal, Permission::UsersManage).await? {
        return Ok(refused);
    }
    let (scope, actor) = (principal.scope(), principal.actor());
    let result = match action.as_str() {
        "lock" => accounts::lock(&platform, scope, &actor, &context.origin, id, true)
            .await
            .map(|u| format!("Locked {}.", u.username)),
        "unlock" => accounts::lock(&platform, scope, &actor, &context.origin, id, false)
            .await
            .map(|u| format!("Unlocked {}.", u.username)),
        "delete" => {
            accounts::delete(&platform, scope, &actor, &context.origin, id).await.map(|()| "Deleted.".to_owned())
        }
        _ => Err(DomainError::NotFound),
    };
    match result {
        Ok(message) => Ok(done(&message)),
        Err(DomainError::NotFound) => Err(poem::Error::from_status(StatusCode::NOT_FOUND)),
        Err(err) => match people_message(&err) {
            Some(message) => users_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
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
    profile_with(platform, principal, notice, error, TwoFactorStep::default()).await
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
pub(crate) struct ProfileForm {
    csrf: String,
    display_name: String,
    #[serde(default)]
    email: String,
}

/// Saves the own display name and email.
#[handler]
pub(crate) async fn update_profile(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<ProfileForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    let changes =
        accounts::StaffChanges { display_name: Some(form.display_name), email: Some(form.email), level: None };
    let scope = principal.scope();
    match accounts::update(&platform, scope, &principal.actor(), None, &context.origin, principal.staff_id, changes)
        .await
    {
        Ok(_) => Ok(Redirect::see_other("/dashboard/profile?done=Saved.").into_response()),
        Err(err) => match people_message(&err) {
            Some(message) => profile_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

/// Changes the own password.
#[handler]
pub(crate) async fn change_password(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<PasswordForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    match accounts::change_password(&platform, &principal, &context.origin, &form.current_password, &form.new_password)
        .await
    {
        Ok(()) => Ok(Redirect::see_other("/dashboard/profile?done=Password%20changed.").into_response()),
        Err(err) => match people_message(&err) {
            Some(message) => profile_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}

/// Starts two-factor enrolment: shows the key and asks for a code.
#[handler]
pub(crate) async fn two_factor_start(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Form(form): Form<CsrfForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    match two_factor::begin(&platform, &principal).await {
        Ok(setup) => {
            profile_with(&platform, &principal, None, None, TwoFactorStep { setup: Some(setup), ..Default::default() })
                .await
        }
        Err(DomainError::Failed(code, _)) if code.kind() == petbridge_domain::Kind::Conflict => {
            profile_page(&platform, &principal, None, None).await
        }
        Err(err) => Err(server_error(err)),
    }
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

#[derive(Deserialize)]
pub(crate) struct DisableForm {
    csrf: String,
    password: String,
}

/// Turns two-factor login off.
#[handler]
pub(crate) async fn two_factor_disable(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<DisableForm>,
) -> poem::Result<Response> {
    csrf_ok(&principal, &form.csrf)?;
    match two_factor::disable(&platform, &principal, &context.origin, &form.password).await {
        Ok(()) => Ok(Redirect::see_other("/dashboard/profile?done=Two-factor%20login%20is%20off.").into_response()),
        Err(err) => match people_message(&err) {
            Some(message) => profile_page(&platform, &principal, None, Some(message)).await,
            None => Err(server_error(err)),
        },
    }
}
