//! Staff accounts and their login.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::kernel::text::MAX_NAME_CHARS;
use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{login_attempt, session, staff_user},
    deliveries::outbox::{self, Channel, NewDelivery},
    kernel::{
        passwords::{self, Verified},
        permissions::SecurityLevel,
        text::{Email, Username},
    },
    ports::caches::Invalidation,
    practices,
    staff::sessions::{self, NewSession},
};

/// Refused when it contains the user name, or breaks the shared rules.
fn check_password(password: &str, username: &Username, display_name: &str) -> DomainResult<()> {
    if password.to_lowercase().contains(username.as_str()) {
        return Err(DomainError::with(Code::WeakPassword, "a password may not contain the user name"));
    }
    passwords::check_strength(password, &[username.as_str(), display_name])
}

/// A new staff account.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// Login name.
    pub username: String,
    /// Name shown in the dashboard.
    pub display_name: String,
    /// Optional email (account notices).
    pub email: Option<String>,
    /// Security level.
    pub level: SecurityLevel,
    /// Initial password.
    pub password: String,
}

/// Creates a staff account, logs it, and emails the person a notice when an
/// address is given (never the password).
pub async fn create(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    new: NewStaff,
) -> DomainResult<staff_user::Model> {
    let username = Username::parse(&new.username)?;
    let display_name = new.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::with(Code::InvalidDisplayName, "a display name has 1 to 100 characters"));
    }
    let email = new.email.as_deref().filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?;
    check_password(&new.password, &username, &display_name)?;
    let practice = practices::get(platform, scope).await?;
    if find_by_username(platform, scope, &username).await?.is_some() {
        return Err(DomainError::from(Code::UsernameTaken));
    }
    let password_hash = platform.passwords.hash(&new.password).await?;
    let now = platform.clock.now();

    let txn = platform.begin_write().await?;
    let model = staff_user::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        username: Set(username.as_str().to_owned()),
        display_name: Set(display_name),
        email: Set(email.as_ref().map(|e| e.as_str().to_owned())),
        level: Set(new.level.as_str().to_owned()),
        password_hash: Set(password_hash),
        password_changed_at: Set(now),
        last_login_at: Set(None),
        locked_at: Set(None),
        consecutive_failures: Set(0),
        deleted_at: Set(None),
        totp_secret: Set(None),
        totp_enabled_at: Set(None),
        totp_last_step: Set(None),
        picture_key: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    Entry::new("staff.create", actor, origin)
        .target("staff_user", model.id)
        .detail(serde_json::json!({ "username": model.username, "level": model.level }))
        .record(&txn, platform, scope)
        .await?;
    if let Some(email) = email {
        outbox::enqueue(
            &txn,
            platform,
            scope,
            NewDelivery {
                channel: Channel::Email,
                recipient: email.as_str().to_owned(),
                subject: Some(format!("Your {} dashboard account", practice.name)),
                body: format!(
                    "Hello {},\n\nAn account with the user name \"{}\" was created for you on the {} dashboard \
                     ({} access). Your administrator will give you your password; change it after you first log in.\n",
                    model.display_name,
                    model.username,
                    practice.name,
                    new.level.label()
                ),
                data: serde_json::json!({ "template": "staff_account_created" }),
                reason: format!("staff account created by {}", actor.name),
                purpose: outbox::Purpose::Account,
                client_id: None,
                not_before: None,
                sealed: None,
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// The practice's staff member with this user name (locked or not).
pub(crate) async fn find_by_username(
    platform: &Platform,
    scope: Scope,
    username: &Username,
) -> DomainResult<Option<staff_user::Model>> {
    Ok(staff_user::Entity::find()
        .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
        .filter(staff_user::Column::Username.eq(username.as_str()))
        .filter(staff_user::Column::DeletedAt.is_null())
        .one(&platform.db)
        .await?)
}

/// One staff member of the caller's practice.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<staff_user::Model> {
    get_in(&platform.db, scope, id).await
}

/// [`get`] on `conn` (a write transaction reads what it decides on).
async fn get_in(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<staff_user::Model> {
    staff_user::Entity::find_by_id(id)
        .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
        .filter(staff_user::Column::DeletedAt.is_null())
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// The practice's staff, alphabetical by user name.
pub async fn list(platform: &Platform, scope: Scope) -> DomainResult<Vec<staff_user::Model>> {
    Ok(staff_user::Entity::find()
        .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
        .filter(staff_user::Column::DeletedAt.is_null())
        .order_by_asc(staff_user::Column::Username)
        .all(&platform.db)
        .await?)
}

/// What a login attempt gives.
#[derive(Debug)]
pub struct LoggedIn {
    /// The new session.
    pub session: NewSession,
    /// Who logged in.
    pub staff: staff_user::Model,
    /// The session waits for a code from the authenticator app
    /// ([`two_factor::complete_login`]).
    pub second_factor_required: bool,
}

/// Checks a user name and password for a practice and opens a session.
///
/// Unknown practice, unknown user, wrong password and locked account all get
/// the same error after the same work (a password verification), so the
/// answer tells an attacker nothing. Every attempt on a practice is recorded;
/// the practice's threshold of consecutive failures locks the account until
/// an administrator unlocks it.
pub async fn log_in(
    platform: &Platform,
    practice_code: &str,
    username: &str,
    password: &str,
    origin: &Origin,
    user_agent: Option<&str>,
) -> DomainResult<LoggedIn> {
    let rejected = || DomainError::from(Code::InvalidCredentials);
    if !platform.login_throttle.allow(origin.ip.as_deref()) {
        return Err(DomainError::from(Code::TooManyLoginAttempts));
    }
    let practice = practices::find_by_slug(platform, practice_code).await?;
    let name = Username::parse(username).ok();
    let staff = match (&practice, &name) {
        (Some(practice), Some(name)) => find_by_username(platform, Scope { practice_id: practice.id }, name).await?,
        _ => None,
    };
    let verdict = platform.passwords.verify(password, staff.as_ref().map(|s| s.password_hash.as_str())).await?;
    let Some(practice) = practice else {
        return Err(rejected());
    };
    let scope = Scope { practice_id: practice.id };
    let now = platform.clock.now();
    let succeeded = verdict != Verified::No && staff.as_ref().is_some_and(|s| s.locked_at.is_none());
    let tried: String = name.map_or_else(|| username.trim().chars().take(64).collect(), |n| n.as_str().to_owned());
    let login_attempt_name = tried.clone();

    let txn = platform.begin_write().await?;
    record_attempt(&txn, practice.id, staff.as_ref(), tried, origin, succeeded, now).await?;
    let Some(staff) = staff else {
        // Logged like any failure, which also keeps this path's work (and so
        // its time) the same as a wrong password's.
        Entry::new("auth.login_failed", &Actor::system("login"), origin)
            .detail(serde_json::json!({ "unknown_username": login_attempt_name }))
            .record(&txn, platform, scope)
            .await?;
        txn.commit().await?;
        return Err(rejected());
    };
    let actor = Actor { id: Some(staff.id), name: staff.username.clone() };

    if !succeeded {
        let failed = Entry::new("auth.login_failed", &actor, origin)
            .target("staff_user", staff.id)
            .detail(serde_json::json!({ "locked": staff.locked_at.is_some() }));
        let locked = count_failure(&txn, platform, &practice, &staff, failed, origin).await?;
        txn.commit().await?;
        if locked {
            platform.invalidate(Invalidation::AllSessions).await;
        }
        return Err(rejected());
    }

    let second_factor_required = required_for(&staff);
    let mut update = staff_user::Entity::update_many()
        .col_expr(staff_user::Column::ConsecutiveFailures, Expr::value(0))
        .filter(staff_user::Column::Id.eq(staff.id));
    if !second_factor_required {
        update = update.col_expr(staff_user::Column::LastLoginAt, Expr::value(now));
    }
    if let Verified::YesRehashed(new_hash) = verdict {
        update = update.col_expr(staff_user::Column::PasswordHash, Expr::value(new_hash));
    }
    update.exec(&txn).await?;
    let session = sessions::open(&txn, platform, &staff, origin, user_agent, second_factor_required).await?;
    let action = if second_factor_required { "auth.password_accepted" } else { "auth.login" };
    Entry::new(action, &actor, origin).target("staff_user", staff.id).record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(LoggedIn { session, staff, second_factor_required })
}

/// Counts a failed attempt at an account's credentials (a login or a
/// manager override): logged as `failed`, and the practice's threshold of
/// consecutive failures locks it. Returns whether this failure locked it;
/// the caller then forgets cached sessions once committed.
pub(crate) async fn count_failure(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &crate::kernel::practice::Practice,
    staff: &staff_user::Model,
    failed: Entry<'_>,
    origin: &Origin,
) -> DomainResult<bool> {
    let scope = Scope { practice_id: practice.id };
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::ConsecutiveFailures, Expr::col(staff_user::Column::ConsecutiveFailures).add(1))
        .filter(staff_user::Column::Id.eq(staff.id))
        .exec(conn)
        .await?;
    failed.record(conn, platform, scope).await?;
    let failures = u32::try_from(staff.consecutive_failures + 1).unwrap_or(0);
    let lock_now = staff.locked_at.is_none() && failures >= practice.settings.lockout_threshold;
    if lock_now {
        set_lock(conn, platform, staff.id, true).await?;
        Entry::new("staff.lock", &Actor::system("lockout"), origin)
            .target("staff_user", staff.id)
            .detail(serde_json::json!({ "username": staff.username, "consecutive_failures": failures }))
            .record(conn, platform, scope)
            .await?;
    }
    Ok(lock_now)
}

/// Records one attempt at a staff account's credentials, as every login
/// attempt is (the Users list counts them).
pub(crate) async fn record_attempt(
    conn: &impl ConnectionTrait,
    practice_id: Uuid,
    staff: Option<&staff_user::Model>,
    tried: String,
    origin: &Origin,
    succeeded: bool,
    at: chrono::DateTime<chrono::Utc>,
) -> DomainResult<()> {
    login_attempt::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(practice_id),
        staff_user_id: Set(staff.map(|s| s.id)),
        username: Set(tried),
        ip: Set(origin.ip.clone()),
        succeeded: Set(succeeded),
        attempted_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Locks or unlocks an account; locking also ends all its sessions.
async fn set_lock(conn: &impl ConnectionTrait, platform: &Platform, staff_id: Uuid, locked: bool) -> DomainResult<()> {
    let now = platform.clock.now();
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::LockedAt, Expr::value(locked.then_some(now)))
        .col_expr(staff_user::Column::ConsecutiveFailures, Expr::value(0))
        .filter(staff_user::Column::Id.eq(staff_id))
        .exec(conn)
        .await?;
    if locked {
        sessions::revoke_all(conn, platform, staff_id).await?;
    }
    Ok(())
}

/// Ends the caller's session and logs it.
pub async fn log_out(
    platform: &Platform,
    principal: &crate::kernel::caller::StaffPrincipal,
    origin: &Origin,
) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    sessions::revoke(&txn, platform, principal.session_id).await?;
    Entry::new("auth.logout", &principal.actor(), origin)
        .target("staff_user", principal.staff_id)
        .record(&txn, platform, principal.scope())
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::Session(principal.token_hash.clone())).await;
    Ok(())
}

/// Changes the caller's own password: the current one must be right; every
/// other session of theirs ends.
pub async fn change_password(
    platform: &Platform,
    principal: &crate::kernel::caller::StaffPrincipal,
    origin: &Origin,
    current: &str,
    new: &str,
) -> DomainResult<()> {
    let scope = principal.scope();
    let user = get(platform, scope, principal.staff_id).await?;
    if platform.passwords.verify(current, Some(&user.password_hash)).await? == Verified::No {
        return Err(DomainError::with(Code::WrongPassword, "the current password is not right"));
    }
    check_password(new, &Username::parse(&user.username)?, &user.display_name)?;
    let hash = platform.passwords.hash(new).await?;
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::PasswordHash, Expr::value(hash))
        .col_expr(staff_user::Column::PasswordChangedAt, Expr::value(now))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::StaffUserId.eq(user.id))
        .filter(session::Column::Id.ne(principal.session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    Entry::new("staff.password_change", &principal.actor(), origin)
        .target("staff_user", user.id)
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::AllSessions).await;
    Ok(())
}

/// Side of the square profile pictures, in pixels.
pub const PICTURE_SIDE: u32 = 256;

/// Sets a staff member's profile picture from an upload (JPEG, PNG or
/// WebP): stored as a square JPEG without the upload's metadata.
pub async fn set_picture(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    upload: bytes::Bytes,
) -> DomainResult<()> {
    let user = get(platform, scope, id).await?;
    let picture = tokio::task::spawn_blocking(move || crate::kernel::images::square_jpeg(&upload, PICTURE_SIDE))
        .await
        .map_err(DomainError::unexpected)??;
    let key = format!("practices/{}/staff/{}/picture-{}.jpg", scope.practice_id, user.id, Uuid::new_v4().simple());
    platform.storage.put(&key, picture).await?;
    let txn = platform.begin_write().await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::PictureKey, Expr::value(key))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    Entry::new("staff.picture_set", actor, origin).target("staff_user", user.id).record(&txn, platform, scope).await?;
    txn.commit().await?;
    if let Some(old) = user.picture_key {
        // The row no longer points at it; a failure here only leaves a stray file.
        if let Err(err) = platform.storage.delete(&old).await {
            tracing::warn!(error = %err, "could not delete a replaced picture");
        }
    }
    Ok(())
}

/// A staff member's profile picture (JPEG), if they have one.
pub async fn picture(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<bytes::Bytes> {
    let key = get(platform, scope, id).await?.picture_key.ok_or(DomainError::NotFound)?;
    platform.storage.get(&key).await
}

/// A staff account as View All Users shows it.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// The account.
    pub user: staff_user::Model,
    /// Failed login attempts in the last two days.
    pub failed_last_two_days: u64,
    /// The practice's only unlocked administrator: not to be demoted, locked or deleted.
    pub last_administrator: bool,
}

/// The practice's staff accounts, alphabetical by user name, with their
/// failed login attempts in the last two days.
pub async fn list_with_attempts(platform: &Platform, scope: Scope) -> DomainResult<Vec<UserRow>> {
    let users = list(platform, scope).await?;
    let open_admins = users.iter().filter(|u| is_open_administrator(u)).count();
    let since = platform.clock.now() - chrono::Duration::days(2);
    let failures: Vec<(Uuid, i64)> = login_attempt::Entity::find()
        .select_only()
        .column(login_attempt::Column::StaffUserId)
        .column_as(login_attempt::Column::Id.count(), "n")
        .filter(login_attempt::Column::PracticeId.eq(scope.practice_id))
        .filter(login_attempt::Column::Succeeded.eq(false))
        .filter(login_attempt::Column::AttemptedAt.gte(since))
        .filter(login_attempt::Column::StaffUserId.is_not_null())
        .group_by(login_attempt::Column::StaffUserId)
        .into_tuple()
        .all(&platform.db)
        .await?;
    Ok(users
        .into_iter()
        .map(|user| {
            let failed =
                failures.iter().find(|(id, _)| *id == user.id).map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            let last_administrator = open_admins == 1 && is_open_administrator(&user);
            UserRow { user, failed_last_two_days: failed, last_administrator }
        })
        .collect())
}

/// What an administrator may change on an account.
#[derive(Debug, Clone, Default)]
pub struct StaffChanges {
    /// New display name.
    pub display_name: Option<String>,
    /// New email (`Some("")` removes it).
    pub email: Option<String>,
    /// New security level.
    pub level: Option<SecurityLevel>,
}

/// An administrator who can act: not locked, not deleted.
fn is_open_administrator(user: &staff_user::Model) -> bool {
    user.level == SecurityLevel::Administrator.as_str() && user.locked_at.is_none() && user.deleted_at.is_none()
}

/// Whether `user` is the practice's only unlocked administrator, who must
/// stay one: without them nobody could manage staff or unlock anyone.
async fn is_last_administrator(conn: &impl ConnectionTrait, user: &staff_user::Model) -> DomainResult<bool> {
    if !is_open_administrator(user) {
        return Ok(false);
    }
    // Every open administrator's row, locked in one order on PostgreSQL (FOR
    // UPDATE), so two administrators demoting each other at once are taken
    // one after the other and the second sees the first's change; SQLite's
    // IMMEDIATE write lock already orders them.
    let admins = staff_user::Entity::find()
        .filter(staff_user::Column::PracticeId.eq(user.practice_id))
        .filter(staff_user::Column::Level.eq(SecurityLevel::Administrator.as_str()))
        .filter(staff_user::Column::LockedAt.is_null())
        .filter(staff_user::Column::DeletedAt.is_null())
        .order_by_asc(staff_user::Column::Id)
        .lock_exclusive()
        .all(conn)
        .await?;
    Ok(admins.iter().all(|admin| admin.id == user.id))
}

/// Refuses to take away the practice's last unlocked administrator.
async fn keep_an_administrator(conn: &impl ConnectionTrait, user: &staff_user::Model) -> DomainResult<()> {
    if is_last_administrator(conn, user).await? {
        return Err(DomainError::from(Code::LastAdministrator));
    }
    Ok(())
}

/// Changes an account's display name, email or level.
pub async fn update(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    approver: Option<&Actor>,
    origin: &Origin,
    id: Uuid,
    changes: StaffChanges,
) -> DomainResult<staff_user::Model> {
    let current = get(platform, scope, id).await?;
    let mut update = staff_user::Entity::update_many().filter(staff_user::Column::Id.eq(current.id));
    let mut detail = serde_json::Map::new();
    if let Some(name) = &changes.display_name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(DomainError::with(Code::InvalidDisplayName, "a display name has 1 to 100 characters"));
        }
        update = update.col_expr(staff_user::Column::DisplayName, Expr::value(name));
        detail.insert("display_name".into(), name.into());
    }
    if let Some(email) = &changes.email {
        let email = if email.trim().is_empty() { None } else { Some(Email::parse(email)?.as_str().to_owned()) };
        update = update.col_expr(staff_user::Column::Email, Expr::value(email.clone()));
        detail.insert("email".into(), email.into());
    }
    if let Some(level) = changes.level {
        update = update.col_expr(staff_user::Column::Level, Expr::value(level.as_str()));
        detail.insert("level".into(), level.as_str().into());
    }
    let txn = platform.begin_write().await?;
    if changes.level.is_some_and(|level| level != SecurityLevel::Administrator) {
        keep_an_administrator(&txn, &get_in(&txn, scope, id).await?).await?;
    }
    update.exec(&txn).await?;
    Entry::new("staff.update", actor, origin)
        .target("staff_user", id)
        .detail(serde_json::Value::Object(detail))
        .approved_by(approver)
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    if changes.level.is_some() {
        // Sessions carry the level: let them re-read it.
        platform.invalidate(Invalidation::AllSessions).await;
    }
    get(platform, scope, id).await
}

/// Locks (`true`) or unlocks an account, and logs it.
pub async fn lock(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    locked: bool,
) -> DomainResult<staff_user::Model> {
    let user = get(platform, scope, id).await?;
    if locked && actor.id == Some(id) {
        return Err(DomainError::from(Code::CannotLockYourself));
    }
    let txn = platform.begin_write().await?;
    if locked {
        keep_an_administrator(&txn, &get_in(&txn, scope, id).await?).await?;
    }
    set_lock(&txn, platform, user.id, locked).await?;
    let action = if locked { "staff.lock" } else { "staff.unlock" };
    Entry::new(action, actor, origin)
        .target("staff_user", id)
        .detail(serde_json::json!({ "username": user.username }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::AllSessions).await;
    get(platform, scope, id).await
}

/// Deletes an account: it can no longer log in and leaves the lists, while
/// its name stays on the activity log and history. The user name is freed.
pub async fn delete(platform: &Platform, scope: Scope, actor: &Actor, origin: &Origin, id: Uuid) -> DomainResult<()> {
    let user = get(platform, scope, id).await?;
    if actor.id == Some(id) {
        return Err(DomainError::from(Code::CannotDeleteYourself));
    }
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    keep_an_administrator(&txn, &get_in(&txn, scope, id).await?).await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::DeletedAt, Expr::value(now))
        .col_expr(staff_user::Column::Username, Expr::value(format!("{}~deleted~{}", user.username, user.id.simple())))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    sessions::revoke_all(&txn, platform, user.id).await?;
    Entry::new("staff.delete", actor, origin)
        .target("staff_user", id)
        .detail(serde_json::json!({ "username": user.username, "display_name": user.display_name }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::AllSessions).await;
    Ok(())
}

/// Whether a staff account asks for a second factor at login.
pub fn required_for(user: &staff_user::Model) -> bool {
    user.totp_enabled_at.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_round_trip() {
        assert!(SecurityLevel::Staff < SecurityLevel::Manager);
        assert!(SecurityLevel::Manager < SecurityLevel::Administrator);
        for level in SecurityLevel::ALL {
            assert_eq!(SecurityLevel::parse(level.as_str()).ok(), Some(level));
        }
    }

    #[test]
    fn passwords_need_length_and_no_user_name() {
        let Ok(name) = Username::parse("jsmith") else { panic!("bad name") };
        assert!(check_password("short", &name, "John Smith").is_err());
        assert!(check_password("my-jsmith-password", &name, "John Smith").is_err());
        assert!(check_password("password1234", &name, "John Smith").is_err(), "common");
        assert!(check_password("john smith 2024", &name, "John Smith").is_err(), "their own name");
        assert!(check_password("purple elephants dance at noon", &name, "John Smith").is_ok());
    }
}
