//! Staff accounts and their login.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    Actor, DomainError, DomainResult, Origin, Platform, Scope,
    caches::{self, Invalidation},
    entities::staff_user,
    services::{
        activity::{self, Entry},
        outbox::{self, Channel, NewDelivery},
        passwords::Verified,
        practices,
        sessions::{self, NewSession},
    },
    types::{Email, Username},
};

/// Security levels, each including everything of the one below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecurityLevel {
    /// Front-desk and clinical staff.
    Staff,
    /// Practice managers.
    Manager,
    /// Administrators.
    Administrator,
}

impl SecurityLevel {
    /// Every level, lowest first.
    pub const ALL: [SecurityLevel; 3] = [SecurityLevel::Staff, SecurityLevel::Manager, SecurityLevel::Administrator];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::Staff => "staff",
            SecurityLevel::Manager => "manager",
            SecurityLevel::Administrator => "administrator",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            SecurityLevel::Staff => "Staff",
            SecurityLevel::Manager => "Manager",
            SecurityLevel::Administrator => "Administrator",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| DomainError::invalid("invalid_level", "level is staff, manager or administrator"))
    }
}

/// Passwords are at least this long; the strength rules come with the
/// staff-accounts work.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// And at most this long (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;

fn check_password(password: &str, username: &Username) -> DomainResult<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(DomainError::invalid(
            "weak_password",
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.to_lowercase().contains(username.as_str()) {
        return Err(DomainError::invalid("weak_password", "a password may not contain the user name"));
    }
    Ok(())
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
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(DomainError::invalid("invalid_display_name", "a display name has 1 to 100 characters"));
    }
    let email = new.email.as_deref().filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?;
    check_password(&new.password, &username)?;
    let practice = practices::get(platform, scope).await?;
    if find_by_username(platform, scope, &username).await?.is_some() {
        return Err(DomainError::Conflict("username_taken"));
    }
    let password_hash = platform.passwords.hash(&new.password).await?;
    let now = platform.clock.now();

    let txn = platform.db.begin().await?;
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
        deleted_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    activity::record(
        &txn,
        platform,
        scope,
        Entry {
            action: "staff.create",
            target_type: Some("staff_user"),
            target_id: Some(model.id.to_string()),
            detail: Some(serde_json::json!({ "username": model.username, "level": model.level })),
            actor,
            origin,
        },
    )
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
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(model)
}

async fn find_by_username(
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
    staff_user::Entity::find_by_id(id)
        .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
        .filter(staff_user::Column::DeletedAt.is_null())
        .one(&platform.db)
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
}

/// Checks a user name and password for a practice and opens a session.
///
/// Unknown practice, unknown user, wrong password and locked account all get
/// the same error after the same work (a password verification), so the
/// answer tells an attacker nothing.
pub async fn log_in(
    platform: &Platform,
    practice_code: &str,
    username: &str,
    password: &str,
    origin: &Origin,
    user_agent: Option<&str>,
) -> DomainResult<LoggedIn> {
    let rejected = DomainError::Unauthorized("invalid_credentials");
    let practice = practices::find_by_slug(platform, practice_code).await?;
    let staff = match (&practice, Username::parse(username)) {
        (Some(practice), Ok(name)) => find_by_username(platform, Scope { practice_id: practice.id }, &name).await?,
        _ => None,
    };
    let verdict = platform.passwords.verify(password, staff.as_ref().map(|s| s.password_hash.as_str())).await?;
    let (Some(practice), Some(staff)) = (practice, staff) else {
        return Err(rejected);
    };
    let scope = Scope { practice_id: practice.id };
    let actor = Actor { id: Some(staff.id), name: staff.username.clone() };
    let target_id = Some(staff.id.to_string());

    if verdict == Verified::No || staff.locked_at.is_some() {
        activity::record(
            &platform.db,
            platform,
            scope,
            Entry {
                action: "auth.login_failed",
                target_type: Some("staff_user"),
                target_id,
                detail: Some(serde_json::json!({ "locked": staff.locked_at.is_some() })),
                actor: &actor,
                origin,
            },
        )
        .await?;
        return Err(rejected);
    }

    let now = platform.clock.now();
    let txn = platform.db.begin().await?;
    let mut update = staff_user::Entity::update_many()
        .col_expr(staff_user::Column::LastLoginAt, Expr::value(now))
        .filter(staff_user::Column::Id.eq(staff.id));
    if let Verified::YesRehashed(new_hash) = verdict {
        update = update.col_expr(staff_user::Column::PasswordHash, Expr::value(new_hash));
    }
    update.exec(&txn).await?;
    let session = sessions::open(&txn, platform, &staff, origin, user_agent).await?;
    activity::record(
        &txn,
        platform,
        scope,
        Entry { action: "auth.login", target_type: Some("staff_user"), target_id, detail: None, actor: &actor, origin },
    )
    .await?;
    txn.commit().await?;
    Ok(LoggedIn { session, staff })
}

/// Ends the caller's session and logs it.
pub async fn log_out(platform: &Platform, principal: &sessions::StaffPrincipal, origin: &Origin) -> DomainResult<()> {
    let txn = platform.db.begin().await?;
    sessions::revoke(&txn, platform, principal.session_id).await?;
    activity::record(
        &txn,
        platform,
        principal.scope(),
        Entry {
            action: "auth.logout",
            target_type: Some("staff_user"),
            target_id: Some(principal.staff_id.to_string()),
            detail: None,
            actor: &principal.actor(),
            origin,
        },
    )
    .await?;
    txn.commit().await?;
    caches::invalidate(platform, Invalidation::Session(principal.token_hash.clone())).await;
    Ok(())
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
        assert!(check_password("short", &name).is_err());
        assert!(check_password("my-jsmith-password", &name).is_err());
        assert!(check_password("purple elephants dance at noon", &name).is_ok());
    }
}
