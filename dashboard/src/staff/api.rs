//! Staff accounts in the staff API: View All Users (administrators) and a
//! colleague's card.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Code, Platform,
    db::entities::staff_user,
    kernel::{
        permissions::{Permission, SecurityLevel},
        text::{Email, MAX_NAME_CHARS, Username},
    },
    staff::accounts::{self, NewStaff, StaffChanges, UserRow},
};
use petbridge_http::{
    ApiError, ApiResult,
    fields::{Limited, Matching, Text},
    pictures::Picture,
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::Done,
    tags::Tag,
};

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
    /// Login name (3–64 letters, digits, `.`, `_`, `-`; compared without case).
    pub username: Limited<String, Matching<Username>>,
    /// Name shown in the dashboard.
    pub display_name: DisplayName,
    /// Email for account notices; empty means none.
    pub email: Option<Text<0, { Email::MAX_CHARS }>>,
    /// Security level.
    pub level: Level,
    /// Initial password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// The name a staff member is shown by.
pub type DisplayName = Text<1, { MAX_NAME_CHARS }>;

/// Changes to a staff account; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct UserChanges {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New email; empty removes it.
    pub email: Option<Text<0, { Email::MAX_CHARS }>>,
    /// New security level.
    pub level: Option<Level>,
}

/// Created.
#[derive(ApiResponse)]
enum Created {
    /// The new account.
    #[oai(status = 201)]
    Created(Json<UserAccount>),
}

async fn account(platform: &Platform, scope: petbridge_domain::Scope, id: Uuid) -> ApiResult<UserAccount> {
    accounts::list_with_attempts(platform, scope)
        .await?
        .into_iter()
        .find(|row| row.user.id == id)
        .map(UserAccount::from)
        .ok_or_else(|| ApiError::from(Code::NotFound))
}

/// A staff member as colleagues see them.
#[derive(Debug, Object)]
pub struct StaffMember {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown in the dashboard.
    pub display_name: String,
    /// `staff`, `manager` or `administrator`.
    pub level: String,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Whether `GET /staff/{id}/picture` has a picture.
    pub has_picture: bool,
}

impl From<staff_user::Model> for StaffMember {
    fn from(model: staff_user::Model) -> Self {
        Self {
            id: model.id,
            username: model.username,
            display_name: model.display_name,
            level: model.level,
            last_login_at: model.last_login_at,
            has_picture: model.picture_key.is_some(),
        }
    }
}

/// This feature's operations of the staff API.
pub struct StaffApi;

#[OpenApi]
impl StaffApi {
    /// View All Users: every staff account, alphabetical by user name.
    #[oai(path = "/users", method = "get", tag = "Tag::Users", operation_id = "listUsers")]
    async fn list_users(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<UserAccount>>> {
        authorize(&platform, &auth, Permission::UsersManage).await?;
        let rows = accounts::list_with_attempts(&platform, auth.principal().scope()).await?;
        Ok(Json(rows.into_iter().map(UserAccount::from).collect()))
    }
    /// Add a staff account.
    #[oai(path = "/users", method = "post", tag = "Tag::Users", operation_id = "createUser")]
    async fn create_user(&self, auth: StaffAuth, platform: Data<&Platform>, body: Json<NewUser>) -> ApiResult<Created> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage).await?;
        let scope = auth.principal().scope();
        let body = body.0;
        let user = accounts::create(
            &platform,
            scope,
            &allowed.actor,
            auth.origin(),
            NewStaff {
                username: body.username.into_inner(),
                display_name: body.display_name.into_inner(),
                email: body.email.map(Limited::into_inner),
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
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<UserChanges>,
    ) -> ApiResult<Json<UserAccount>> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage).await?;
        let scope = auth.principal().scope();
        let changes = StaffChanges {
            display_name: body.0.display_name.map(Limited::into_inner),
            email: body.0.email.map(Limited::into_inner),
            level: body.0.level.map(SecurityLevel::from),
        };
        accounts::update(&platform, scope, &allowed.actor, allowed.approver.as_ref(), auth.origin(), id.0, changes)
            .await?;
        Ok(Json(account(&platform, scope, id.0).await?))
    }
    /// Set a staff member's profile picture (resized to a 256 px square).
    #[oai(path = "/users/:id/picture", method = "put", tag = "Tag::Users", operation_id = "setUserPicture")]
    async fn set_user_picture(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: petbridge_http::pictures::PictureUpload,
    ) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage).await?;
        accounts::set_picture(
            &platform,
            auth.principal().scope(),
            &allowed.actor,
            auth.origin(),
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
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserAccount>> {
        set_locked(&auth, &platform, id.0, true).await
    }
    /// Unlock an account (and clear its failed-login count).
    #[oai(path = "/users/:id/unlock", method = "post", tag = "Tag::Users", operation_id = "unlockUser")]
    async fn unlock_user(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserAccount>> {
        set_locked(&auth, &platform, id.0, false).await
    }
    /// Delete an account; its name stays on the activity log.
    #[oai(path = "/users/:id", method = "delete", tag = "Tag::Users", operation_id = "deleteUser")]
    async fn delete_user(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::UsersManage).await?;
        accounts::delete(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0).await?;
        Ok(Done::NoContent)
    }
    /// A colleague's profile picture.
    #[oai(path = "/staff/:id/picture", method = "get", tag = "Tag::Staff", operation_id = "getStaffPicture")]
    async fn staff_picture(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        let bytes = accounts::picture(&platform, auth.principal().scope(), id.0).await?;
        Ok(Picture::private(bytes, 300))
    }
    /// A colleague in the same practice.
    #[oai(path = "/staff/:id", method = "get", tag = "Tag::Staff", operation_id = "getStaffMember")]
    async fn staff_member(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<StaffMember>> {
        Ok(Json(accounts::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
}

/// Locks or unlocks a staff account; answers it as it now stands.
async fn set_locked(auth: &StaffAuth, platform: &Platform, id: Uuid, locked: bool) -> ApiResult<Json<UserAccount>> {
    let allowed = authorize(platform, auth, Permission::UsersManage).await?;
    let scope = auth.principal().scope();
    accounts::lock(platform, scope, &allowed.actor, auth.origin(), id, locked).await?;
    Ok(Json(account(platform, scope, id).await?))
}
