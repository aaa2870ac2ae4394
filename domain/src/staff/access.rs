//! Who may do what: a signed-in staff member's level, or a manager's
//! credentials given for one action on that staff member's screen (a manager
//! override), recorded with both names.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform,
    activity::Entry,
    db::entities::staff_user,
    kernel::{
        caller::{Authorized, StaffPrincipal},
        passwords::Verified,
        permissions::{Permission, SecurityLevel},
        text::Username,
    },
    ports::caches::Invalidation,
    practices,
    staff::{accounts, two_factor},
};

/// A manager's (or administrator's) credentials for one action.
#[derive(Clone)]
pub struct Override {
    /// Their user name.
    pub username: String,
    /// Their password.
    pub password: String,
    /// Their authenticator-app or recovery code, when they use a second factor.
    pub code: Option<String>,
}

impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Override")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The one answer to every override that does not go through.
const REFUSED: DomainError = DomainError::Failed(Code::OverrideRefused, None);

/// Checks that `principal` may use `permission`, on their own level or with
/// an override by someone in the same practice who holds it. Without an
/// override it is `Forbidden`. An override is a login by the approver in
/// every way that matters to an attacker: the per-address throttle, the
/// attempt recorded against the approver's account, the lockout threshold,
/// their second factor when they have one, and one answer
/// (`override_refused`) for every failure after the same work.
pub async fn authorize(
    platform: &Platform,
    principal: &StaffPrincipal,
    permission: Permission,
    with_override: Option<&Override>,
    origin: &Origin,
) -> DomainResult<Authorized> {
    let actor = principal.actor();
    if principal.level.grants(permission) {
        return Ok(Authorized { actor, approver: None });
    }
    let Some(credentials) = with_override else {
        return Err(DomainError::Forbidden);
    };
    if !platform.login_throttle.allow(origin.ip.as_deref()) {
        return Err(DomainError::from(Code::TooManyLoginAttempts));
    }
    let scope = principal.scope();
    let practice = practices::get(platform, scope).await?;
    let name = Username::parse(&credentials.username).ok();
    let approver = match &name {
        Some(name) => accounts::find_by_username(platform, scope, name).await?,
        None => None,
    };
    let verdict =
        platform.passwords.verify(&credentials.password, approver.as_ref().map(|a| a.password_hash.as_str())).await?;
    let tried: String =
        name.map_or_else(|| credentials.username.trim().chars().take(64).collect(), |n| n.as_str().to_owned());
    let refused = |detail: serde_json::Value| Entry::new("auth.override_refused", &actor, origin).detail(detail);
    let txn = platform.begin_write().await?;
    let Some(approver) = approver else {
        accounts::record_attempt(&txn, practice.id, None, tried.clone(), origin, false, platform.clock.now()).await?;
        let entry = refused(serde_json::json!({ "permission": permission.name(), "approver_username": tried }));
        entry.record(&txn, platform, scope).await?;
        txn.commit().await?;
        return Err(REFUSED);
    };
    let password_ok = verdict != Verified::No && approver.locked_at.is_none();
    let second_factor_ok = if password_ok && accounts::required_for(&approver) {
        let code = credentials.code.as_deref().unwrap_or_default();
        two_factor::accept_code(&txn, platform, &approver, code, &practice.name).await?.is_some()
    } else {
        true
    };
    let succeeded = password_ok && second_factor_ok;
    accounts::record_attempt(&txn, practice.id, Some(&approver), tried, origin, succeeded, platform.clock.now())
        .await?;
    let detail = serde_json::json!({ "permission": permission.name(), "approver_username": approver.username });
    if !succeeded {
        let entry = refused(detail).target("staff_user", approver.id);
        let locked = accounts::count_failure(&txn, platform, &practice, &approver, entry, origin).await?;
        txn.commit().await?;
        if locked {
            platform.invalidate(Invalidation::AllSessions).await;
        }
        return Err(REFUSED);
    }
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::ConsecutiveFailures, Expr::value(0))
        .filter(staff_user::Column::Id.eq(approver.id))
        .exec(&txn)
        .await?;
    let holds = SecurityLevel::parse(&approver.level).is_ok_and(|level| level.grants(permission));
    if !holds {
        // Their own credentials, but not the level: refused alike, not counted as a guess.
        refused(detail).target("staff_user", approver.id).record(&txn, platform, scope).await?;
        txn.commit().await?;
        return Err(REFUSED);
    }
    let approver = Actor { id: Some(approver.id), name: approver.username };
    Entry::new("auth.override", &actor, origin)
        .detail(serde_json::json!({ "permission": permission.name() }))
        .approved_by(Some(&approver))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(Authorized { actor, approver: Some(approver) })
}
