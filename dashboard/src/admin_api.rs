//! Administration in the staff API: View All Users, the activity log, and
//! reports. Each operation names the permission it needs; a staff member
//! without it may send a manager's credentials for that one action
//! (`X-Override-Username`, `X-Override-Password`).

use chrono::{DateTime, Duration, Utc};
use petbridge_domain::{
    Code, Cursor, Platform, activity as activity_log,
    db::entities::activity,
    deliveries::outbox,
    kernel::{
        paging::page_limit,
        permissions::{Permission, SecurityLevel},
    },
    performance::{self, Period, StaffPerformance},
    practices,
    staff::accounts::{self, NewStaff, StaffChanges, UserRow},
};
use petbridge_http::{ApiError, ApiResult, RequestContext};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi, Tags,
    param::{Path, Query},
    payload::{Json, PlainText},
};
use uuid::Uuid;

use crate::auth::{ManagerOverride, StaffAuth, authorize};

#[derive(Tags)]
enum Tag {
    /// View All Users: the practice's staff accounts (administrators).
    Users,
    /// The activity log (administrators).
    Activity,
    /// Reports.
    Reports,
    /// Staff performance: plan points against goals (administrators).
    Performance,
}

/// Security levels.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Level {
    /// Staff.
    Staff,
    /// Manager.
    Manager,
    /// Administrator.
    Administrator,
}

impl From<Level> for SecurityLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Staff => SecurityLevel::Staff,
            Level::Manager => SecurityLevel::Manager,
            Level::Administrator => SecurityLevel::Administrator,
        }
    }
}

/// A row of View All Users.
#[derive(Debug, Object)]
pub struct UserAccount {
    /// Id.
    pub id: Uuid,
    /// The name used to log in.
    pub username: String,
    /// The name shown in the dashboard.
    pub display_name: String,
    /// Email for account notices.
    pub email: Option<String>,
    /// `staff`, `manager` or `administrator`.
    pub level: String,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Last password change.
    pub password_changed_at: DateTime<Utc>,
    /// Failed login attempts in the last two days.
    pub failed_login_attempts: u64,
    /// Whether the account is locked out.
    pub locked: bool,
    /// Whether `GET /staff/{id}/picture` has a picture.
    pub has_picture: bool,
}

impl From<UserRow> for UserAccount {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.user.id,
            username: row.user.username,
            display_name: row.user.display_name,
            email: row.user.email,
            level: row.user.level,
            last_login_at: row.user.last_login_at,
            password_changed_at: row.user.password_changed_at,
            failed_login_attempts: row.failed_last_two_days,
            locked: row.user.locked_at.is_some(),
            has_picture: row.user.picture_key.is_some(),
        }
    }
}

/// A new staff account.
#[derive(Debug, Object)]
pub struct NewUser {
    /// Login name (3–64 letters, digits, `.`, `_`, `-`).
    pub username: String,
    /// Name shown in the dashboard.
    pub display_name: String,
    /// Email for account notices.
    pub email: Option<String>,
    /// Security level.
    pub level: Level,
    /// Initial password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// Changes to a staff account; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct UserChanges {
    /// New display name.
    pub display_name: Option<String>,
    /// New email; empty removes it.
    pub email: Option<String>,
    /// New security level.
    pub level: Option<Level>,
}

/// One activity log entry.
#[derive(Debug, Object)]
pub struct ActivityEntry {
    /// Id.
    pub id: Uuid,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (a user name, or the system).
    pub actor: String,
    /// Who approved it with their credentials (manager override).
    pub approver: Option<String>,
    /// What, e.g. `auth.login`, `staff.lock`.
    pub action: String,
    /// The kind of record touched.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// More about it.
    pub detail: Option<serde_json::Value>,
    /// The client's address.
    pub ip: Option<String>,
    /// The request it happened in.
    pub request_id: Option<String>,
}

impl From<activity::Model> for ActivityEntry {
    fn from(entry: activity::Model) -> Self {
        Self {
            id: entry.id,
            occurred_at: entry.occurred_at,
            actor: entry.actor_name,
            approver: entry.approver_name,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            detail: entry.detail,
            ip: entry.ip,
            request_id: entry.request_id,
        }
    }
}

/// A page of the activity log, newest first.
#[derive(Debug, Object)]
pub struct ActivityPage {
    /// Entries.
    pub items: Vec<ActivityEntry>,
    /// Pass as `after` for the next page.
    pub next: Option<String>,
}

/// Deliveries of one channel in one status.
#[derive(Debug, Object)]
pub struct VolumeRow {
    /// `push`, `sms` or `email`.
    pub channel: String,
    /// `queued`, `sent`, `failed` or `dead`.
    pub status: String,
    /// How many.
    pub count: i64,
}

/// Message and delivery volumes over a period.
#[derive(Debug, Object)]
pub struct DeliveryVolumes {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub until: DateTime<Utc>,
    /// Counts by channel and status.
    pub rows: Vec<VolumeRow>,
}

/// A goal's period.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum GoalPeriod {
    /// Monday to Sunday.
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl From<GoalPeriod> for Period {
    fn from(period: GoalPeriod) -> Self {
        match period {
            GoalPeriod::Week => Period::Week,
            GoalPeriod::Month => Period::Month,
            GoalPeriod::Quarter => Period::Quarter,
            GoalPeriod::Year => Period::Year,
        }
    }
}

/// A goal to set.
#[derive(Debug, Object)]
pub struct Goal {
    /// Plan points per period; 0 removes the goal.
    pub points: i32,
}

/// Points earned in the current period against the goal.
#[derive(Debug, Object)]
pub struct PeriodProgress {
    /// `week`, `month`, `quarter` or `year`.
    pub period: String,
    /// Points earned so far in the current period (practice time zone).
    pub earned: i64,
    /// The goal, if set.
    pub goal: Option<i64>,
    /// `green` (reached), `yellow` (at least 75 %) or `red`; absent without a goal.
    pub standing: Option<String>,
}

/// One staff member's performance.
#[derive(Debug, Object)]
pub struct Performance {
    /// The staff member.
    pub staff_id: Uuid,
    /// User name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Week, month, quarter and year.
    pub periods: Vec<PeriodProgress>,
}

impl From<StaffPerformance> for Performance {
    fn from(row: StaffPerformance) -> Self {
        Self {
            staff_id: row.staff_id,
            username: row.username,
            display_name: row.display_name,
            periods: row
                .periods
                .into_iter()
                .map(|p| PeriodProgress {
                    period: p.period.as_str().to_owned(),
                    earned: p.earned,
                    goal: p.goal,
                    standing: p.standing.map(|s| s.as_str().to_owned()),
                })
                .collect(),
        }
    }
}

/// The practice's own settings.
#[derive(Debug, Object)]
pub struct PracticeSettingsBody {
    /// Consecutive failed logins that lock a staff account (3 to 20).
    pub lockout_threshold: u32,
    /// Administrators must use two-factor login.
    pub require_admin_two_factor: bool,
    /// The practice's texting number (E.164), if it texts.
    pub sms_number: Option<String>,
    /// One loyalty paw for every this many cents invoiced; none when invoices earn no paws.
    pub paw_per_invoiced_cents: Option<i64>,
}

/// Changes to the practice's settings; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct PracticeSettingsChanges {
    /// Consecutive failed logins that lock a staff account (3 to 20).
    pub lockout_threshold: Option<u32>,
    /// Administrators must use two-factor login.
    pub require_admin_two_factor: Option<bool>,
    /// The practice's texting number (E.164); an empty text removes it.
    pub sms_number: Option<String>,
    /// One loyalty paw for every this many cents invoiced (100 to
    /// 1,000,000); 0 stops invoices earning paws.
    pub paw_per_invoiced_cents: Option<i64>,
}

impl From<petbridge_domain::kernel::practice::Practice> for PracticeSettingsBody {
    fn from(practice: petbridge_domain::kernel::practice::Practice) -> Self {
        Self {
            lockout_threshold: practice.settings.lockout_threshold,
            require_admin_two_factor: practice.settings.require_admin_two_factor,
            sms_number: practice.sms_number,
            paw_per_invoiced_cents: practice.settings.paw_per_invoiced_cents,
        }
    }
}

/// Done, nothing to return.
#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// Created.
#[derive(ApiResponse)]
enum Created {
    /// The new account.
    #[oai(status = 201)]
    Created(Json<UserAccount>),
}

/// A CSV file.
#[derive(ApiResponse)]
enum Csv {
    /// The CSV document.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(PlainText<String>, #[oai(header = "content-disposition")] String),
}

/// The administration part of the staff API.
pub struct AdminApi;

fn activity_filter(
    action: Option<String>,
    actor: Option<String>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> activity_log::Filter {
    activity_log::Filter { action, actor, from, until }
}

async fn account(platform: &Platform, scope: petbridge_domain::Scope, id: Uuid) -> ApiResult<UserAccount> {
    accounts::list_with_attempts(platform, scope)
        .await?
        .into_iter()
        .find(|row| row.user.id == id)
        .map(UserAccount::from)
        .ok_or_else(|| ApiError::from(Code::NotFound))
}

#[OpenApi]
impl AdminApi {
    /// View All Users: every staff account, alphabetical by user name.
    #[oai(path = "/users", method = "get", tag = "Tag::Users", operation_id = "listUsers")]
    async fn list_users(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<Json<Vec<UserAccount>>> {
        authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        let rows = accounts::list_with_attempts(&platform, auth.principal().scope()).await?;
        Ok(Json(rows.into_iter().map(UserAccount::from).collect()))
    }

    /// Add a staff account.
    #[oai(path = "/users", method = "post", tag = "Tag::Users", operation_id = "createUser")]
    async fn create_user(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<NewUser>,
    ) -> ApiResult<Created> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        let body = body.0;
        let user = accounts::create(
            &platform,
            scope,
            &allowed.actor,
            &context.origin,
            NewStaff {
                username: body.username,
                display_name: body.display_name,
                email: body.email,
                level: body.level.into(),
                password: body.password,
            },
        )
        .await?;
        Ok(Created::Created(Json(account(&platform, scope, user.id).await?)))
    }

    /// Change a staff account's display name, email or level.
    #[oai(path = "/users/:id", method = "patch", tag = "Tag::Users", operation_id = "updateUser")]
    async fn update_user(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<UserChanges>,
    ) -> ApiResult<Json<UserAccount>> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        let changes = StaffChanges {
            display_name: body.0.display_name,
            email: body.0.email,
            level: body.0.level.map(SecurityLevel::from),
        };
        accounts::update(&platform, scope, &allowed.actor, allowed.approver.as_ref(), &context.origin, id.0, changes)
            .await?;
        Ok(Json(account(&platform, scope, id.0).await?))
    }

    /// Set a staff member's profile picture (resized to a 256 px square).
    #[oai(path = "/users/:id/picture", method = "put", tag = "Tag::Users", operation_id = "setUserPicture")]
    async fn set_user_picture(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: petbridge_http::pictures::PictureUpload,
    ) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        accounts::set_picture(
            &platform,
            auth.principal().scope(),
            &allowed.actor,
            &context.origin,
            id.0,
            body.into_bytes(),
        )
        .await?;
        Ok(Done::NoContent)
    }

    /// Lock an account out (its sessions end at once).
    #[oai(path = "/users/:id/lock", method = "post", tag = "Tag::Users", operation_id = "lockUser")]
    async fn lock_user(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserAccount>> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        accounts::lock(&platform, scope, &allowed.actor, &context.origin, id.0, true).await?;
        Ok(Json(account(&platform, scope, id.0).await?))
    }

    /// Unlock an account (and clear its failed-login count).
    #[oai(path = "/users/:id/unlock", method = "post", tag = "Tag::Users", operation_id = "unlockUser")]
    async fn unlock_user(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserAccount>> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        accounts::lock(&platform, scope, &allowed.actor, &context.origin, id.0, false).await?;
        Ok(Json(account(&platform, scope, id.0).await?))
    }

    /// Delete an account; its name stays on the activity log.
    #[oai(path = "/users/:id", method = "delete", tag = "Tag::Users", operation_id = "deleteUser")]
    async fn delete_user(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage, &manager, &context).await?;
        accounts::delete(&platform, auth.principal().scope(), &allowed.actor, &context.origin, id.0).await?;
        Ok(Done::NoContent)
    }

    /// The activity log, newest first, filtered.
    #[oai(path = "/activity", method = "get", tag = "Tag::Activity", operation_id = "listActivity")]
    #[allow(clippy::too_many_arguments)]
    async fn list_activity(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        /// Actions starting with this, e.g. `auth.` or `staff.lock`.
        action: Query<Option<String>>,
        /// Entries by this user name (as actor or approver).
        actor: Query<Option<String>>,
        /// From this time on.
        from: Query<Option<DateTime<Utc>>>,
        /// Before this time.
        until: Query<Option<DateTime<Utc>>>,
        /// The `next` of the previous page.
        after: Query<Option<String>>,
        /// Items per page, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<ActivityPage>> {
        authorize(&platform, &auth, Permission::ActivityLogView, &manager, &context).await?;
        let filter = activity_filter(action.0, actor.0, from.0, until.0);
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page =
            activity_log::list(&platform, auth.principal().scope(), &filter, after, page_limit(limit.0)?).await?;
        Ok(Json(ActivityPage {
            items: page.items.into_iter().map(ActivityEntry::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }

    /// The activity log as CSV, with the same filters.
    #[oai(path = "/activity/export", method = "get", tag = "Tag::Activity", operation_id = "exportActivity")]
    #[allow(clippy::too_many_arguments)]
    async fn export_activity(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        /// Actions starting with this.
        action: Query<Option<String>>,
        /// Entries by this user name.
        actor: Query<Option<String>>,
        /// From this time on.
        from: Query<Option<DateTime<Utc>>>,
        /// Before this time.
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Csv> {
        let who = authorize(&platform, &auth, Permission::ActivityLogView, &manager, &context).await?;
        let filter = activity_filter(action.0, actor.0, from.0, until.0);
        let csv = activity_log::export_csv(&platform, auth.principal().scope(), &who, &context.origin, &filter).await?;
        Ok(Csv::Ok(PlainText(csv), "attachment; filename=\"activity-log.csv\"".to_owned()))
    }

    /// Plan points earned against goals, for everyone.
    #[oai(path = "/performance", method = "get", tag = "Tag::Performance", operation_id = "listPerformance")]
    async fn list_performance(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<Json<Vec<Performance>>> {
        authorize(&platform, &auth, Permission::PerformanceManage, &manager, &context).await?;
        let rows = performance::report(&platform, auth.principal().scope()).await?;
        Ok(Json(rows.into_iter().map(Performance::from).collect()))
    }

    /// Set a staff member's goal for a period.
    #[oai(path = "/users/:id/goals/:period", method = "put", tag = "Tag::Performance", operation_id = "setGoal")]
    #[allow(clippy::too_many_arguments)]
    async fn set_goal(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        period: Path<GoalPeriod>,
        body: Json<Goal>,
    ) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::PerformanceManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        performance::set_goal(&platform, scope, &allowed.actor, &context.origin, id.0, period.0.into(), body.points)
            .await?;
        Ok(Done::NoContent)
    }

    /// The practice's settings.
    #[oai(path = "/practice/settings", method = "get", tag = "Tag::Users", operation_id = "getPracticeSettings")]
    async fn practice_settings(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<Json<PracticeSettingsBody>> {
        authorize(&platform, &auth, Permission::AdminTools, &manager, &context).await?;
        Ok(Json(practices::get(&platform, auth.principal().scope()).await?.into()))
    }

    /// Change the practice's settings.
    #[oai(path = "/practice/settings", method = "patch", tag = "Tag::Users", operation_id = "updatePracticeSettings")]
    async fn update_practice_settings(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<PracticeSettingsChanges>,
    ) -> ApiResult<Json<PracticeSettingsBody>> {
        let allowed = authorize(&platform, &auth, Permission::AdminTools, &manager, &context).await?;
        let changes = practices::SettingsChanges {
            lockout_threshold: body.0.lockout_threshold,
            require_admin_two_factor: body.0.require_admin_two_factor,
            sms_number: body.0.sms_number,
            paw_per_invoiced_cents: body.0.paw_per_invoiced_cents,
        };
        practices::update_settings(&platform, auth.principal().scope(), &allowed.actor, &context.origin, changes)
            .await?;
        Ok(Json(practices::get(&platform, auth.principal().scope()).await?.into()))
    }

    /// Message and delivery volumes by channel and status (default: the last 30 days).
    #[oai(path = "/reports/delivery-volumes", method = "get", tag = "Tag::Reports", operation_id = "deliveryVolumes")]
    async fn delivery_volumes(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        /// Start of the period.
        from: Query<Option<DateTime<Utc>>>,
        /// End of the period (exclusive).
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<DeliveryVolumes>> {
        authorize(&platform, &auth, Permission::ReportsMost, &manager, &context).await?;
        // By default up to and including now.
        let until = until.0.unwrap_or_else(|| platform.clock.now() + Duration::seconds(1));
        let from = from.0.unwrap_or(until - Duration::days(30));
        if from >= until {
            return Err(petbridge_domain::DomainError::with(Code::InvalidPeriod, "from must be before until").into());
        }
        let rows = outbox::volumes(&platform, auth.principal().scope(), from, until).await?;
        Ok(Json(DeliveryVolumes {
            from,
            until,
            rows: rows.into_iter().map(|(channel, status, count)| VolumeRow { channel, status, count }).collect(),
        }))
    }
}
