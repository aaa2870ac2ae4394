//! The View All Users page and the staff member's own profile page.

use askama::Template;
use petbridge_domain::{
    Platform,
    db::entities::staff_user,
    kernel::permissions::{Permission, SecurityLevel},
    staff::{
        accounts::{self},
        two_factor,
    },
};
use poem::{
    Response, handler,
    web::{Data, Query},
};
use uuid::Uuid;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, DoneQuery, refuse, render, server_error},
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
    two_factor_enabled: bool,
    setup: Option<two_factor::Enrolment>,
}

/// The signed-in staff member's own profile.
#[handler]
pub(crate) async fn profile(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<DoneQuery>,
) -> poem::Result<Response> {
    let me = accounts::get(&platform, principal.scope(), principal.staff_id).await.map_err(server_error)?;
    render(&ProfileTemplate {
        chrome: Chrome::new(&platform, &principal, "profile").await?,
        staff_id: me.id,
        has_picture: me.picture_key.is_some(),
        display_name: me.display_name,
        email: me.email.unwrap_or_default(),
        notice: query.done,
        two_factor_enabled: me.totp_enabled_at.is_some(),
        // An enrolment begun (here or through the API) shows its key until confirmed.
        setup: two_factor::pending(&platform, &principal).await.map_err(server_error)?,
    })
}
