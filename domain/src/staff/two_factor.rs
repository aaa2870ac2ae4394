//! Optional two-factor login: a TOTP authenticator app (RFC 6238, 30 s
//! steps, one step of skew), with ten one-time recovery codes. Time comes
//! from the Clock port, and no code is accepted twice.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform,
    activity::Entry,
    db::entities::{recovery_code, session, staff_user},
    kernel::{caller::StaffPrincipal, passwords::Verified, tokens},
    ports::caches::Invalidation,
    practices,
    staff::{
        accounts,
        sessions::{NewSession, SECOND_FACTOR_WINDOW},
    },
};

/// Recovery codes handed out at enrolment.
const RECOVERY_CODES: usize = 10;
/// Wrong codes before a pending login is abandoned.
const MAX_CODE_FAILURES: i32 = 5;

/// What the authenticator app needs.
#[derive(Clone)]
pub struct Enrolment {
    /// The secret, base32 (to type in).
    pub secret: String,
    /// The `otpauth://` URL (to scan).
    pub otpauth_url: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment").finish_non_exhaustive()
    }
}

fn totp(secret_base32: &str, account: &str, issuer: &str) -> DomainResult<Totp> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|e| DomainError::Unexpected(format!("{e:?}")))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| DomainError::Unexpected(format!("totp: {e:?}")))
}

/// Starts enrolment: a new secret, kept pending until a code confirms it.
pub async fn begin(platform: &Platform, principal: &StaffPrincipal) -> DomainResult<Enrolment> {
    let user = accounts::get(platform, principal.scope(), principal.staff_id).await?;
    if user.totp_enabled_at.is_some() {
        return Err(DomainError::from(Code::TwoFactorAlreadyEnabled));
    }
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| DomainError::Unexpected(format!("no randomness: {e}")))?;
    let secret = Secret::new(Box::from(bytes.as_slice())).to_base32();
    let practice = practices::get(platform, principal.scope()).await?;
    let otpauth_url = totp(&secret, &user.username, &practice.name)?
        .to_url()
        .map_err(|e| DomainError::Unexpected(format!("totp url: {e:?}")))?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::TotpSecret, Expr::value(secret.clone()))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&platform.db)
        .await?;
    Ok(Enrolment { secret, otpauth_url })
}

/// The time step a code is good for, if it is right and newer than the last
/// one used.
fn accepted_step(user: &staff_user::Model, code: &str, now: i64, issuer: &str) -> DomainResult<Option<i64>> {
    let Some(secret) = &user.totp_secret else { return Ok(None) };
    let time = u64::try_from(now).unwrap_or(0);
    let step = totp(secret, &user.username, issuer)?.check(code.trim(), time).and_then(|s| i64::try_from(s).ok());
    Ok(step.filter(|step| user.totp_last_step.is_none_or(|last| *step > last)))
}

/// Confirms enrolment with a code from the app; returns the recovery codes,
/// shown once.
pub async fn confirm(
    platform: &Platform,
    principal: &StaffPrincipal,
    origin: &Origin,
    code: &str,
) -> DomainResult<Vec<String>> {
    let user = accounts::get(platform, principal.scope(), principal.staff_id).await?;
    if user.totp_enabled_at.is_some() {
        return Err(DomainError::from(Code::TwoFactorAlreadyEnabled));
    }
    if user.totp_secret.is_none() {
        return Err(DomainError::from(Code::TwoFactorNotStarted));
    }
    let practice = practices::get(platform, principal.scope()).await?;
    let now = platform.clock.now();
    let Some(step) = accepted_step(&user, code, now.timestamp(), &practice.name)? else {
        return Err(DomainError::with(Code::WrongCode, "that code is not right; check the app's clock"));
    };
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let txn = platform.begin_write().await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::TotpEnabledAt, Expr::value(now))
        .col_expr(staff_user::Column::TotpLastStep, Expr::value(step))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    for _ in 0..RECOVERY_CODES {
        let code: String = tokens::random_token()?.chars().filter(char::is_ascii_alphanumeric).take(10).collect();
        recovery_code::ActiveModel {
            id: Set(Uuid::new_v4()),
            staff_user_id: Set(user.id),
            code_hash: Set(tokens::token_hash(&code.to_lowercase())),
            used_at: Set(None),
        }
        .insert(&txn)
        .await?;
        codes.push(code);
    }
    Entry::new("staff.two_factor_enabled", &principal.actor(), origin)
        .target("staff_user", user.id)
        .record(&txn, platform, principal.scope())
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::AllSessions).await;
    Ok(codes)
}

/// Turns two-factor login off (the password must be right).
pub async fn disable(
    platform: &Platform,
    principal: &StaffPrincipal,
    origin: &Origin,
    password: &str,
) -> DomainResult<()> {
    let user = accounts::get(platform, principal.scope(), principal.staff_id).await?;
    if platform.passwords.verify(password, Some(&user.password_hash)).await? == Verified::No {
        return Err(DomainError::with(Code::WrongPassword, "the password is not right"));
    }
    let txn = platform.begin_write().await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(staff_user::Column::TotpEnabledAt, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(staff_user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    recovery_code::Entity::delete_many().filter(recovery_code::Column::StaffUserId.eq(user.id)).exec(&txn).await?;
    Entry::new("staff.two_factor_disabled", &principal.actor(), origin)
        .target("staff_user", user.id)
        .record(&txn, platform, principal.scope())
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Uses up a recovery code, if `code` is one of the user's unused ones.
async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    staff_id: Uuid,
    code: &str,
) -> DomainResult<bool> {
    let hash = tokens::token_hash(&code.trim().to_lowercase());
    let used = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(platform.clock.now()))
        .filter(recovery_code::Column::StaffUserId.eq(staff_id))
        .filter(recovery_code::Column::CodeHash.eq(hash))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(used.rows_affected == 1)
}

/// Completes a login whose password was right: `token` is the pending
/// session's, `code` a current app code or a recovery code. Too many wrong
/// codes abandon the login.
pub async fn complete_login(platform: &Platform, token: &str, code: &str, origin: &Origin) -> DomainResult<NewSession> {
    let rejected = || DomainError::from(Code::InvalidCode);
    let now = platform.clock.now();
    let (pending, user) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(tokens::token_hash(token)))
        .find_also_related(staff_user::Entity)
        .one(&platform.db)
        .await?
        .ok_or_else(rejected)?;
    let user = user.ok_or_else(rejected)?;
    let open = pending.second_factor_pending
        && pending.revoked_at.is_none()
        && now < pending.created_at + SECOND_FACTOR_WINDOW
        && user.locked_at.is_none()
        && user.deleted_at.is_none();
    if !open {
        return Err(rejected());
    }
    let scope = crate::Scope { practice_id: user.practice_id };
    let practice = practices::get(platform, scope).await?;
    let actor = crate::Actor { id: Some(user.id), name: user.username.clone() };
    let txn = platform.begin_write().await?;
    let accepted = accept_code(&txn, platform, &user, code, &practice.name).await?;
    if accepted.is_none() {
        let failures = pending.second_factor_failures + 1;
        let mut update = session::Entity::update_many()
            .col_expr(session::Column::SecondFactorFailures, Expr::value(failures))
            .filter(session::Column::Id.eq(pending.id));
        if failures >= MAX_CODE_FAILURES {
            update = update.col_expr(session::Column::RevokedAt, Expr::value(now));
        }
        update.exec(&txn).await?;
        Entry::new("auth.second_factor_failed", &actor, origin)
            .target("staff_user", user.id)
            .record(&txn, platform, scope)
            .await?;
        txn.commit().await?;
        return Err(rejected());
    }
    session::Entity::update_many()
        .col_expr(session::Column::SecondFactorPending, Expr::value(false))
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(pending.id))
        .exec(&txn)
        .await?;
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::LastLoginAt, Expr::value(now))
        .filter(staff_user::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    Entry::new("auth.login", &actor, origin)
        .target("staff_user", user.id)
        .detail(serde_json::json!({ "second_factor": accepted }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::Session(pending.token_hash.clone())).await;
    Ok(NewSession { token: token.to_owned(), csrf_token: pending.csrf_token, expires_at: pending.expires_at })
}

/// Takes a second-factor code for `user`: a current authenticator-app code
/// (each time step once only, even when two arrive at once) or an unused
/// recovery code, which is spent. Returns which it was, or `None`.
pub(crate) async fn accept_code(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    user: &staff_user::Model,
    code: &str,
    issuer: &str,
) -> DomainResult<Option<&'static str>> {
    if let Some(step) = accepted_step(user, code, platform.clock.now().timestamp(), issuer)? {
        let first_use = staff_user::Entity::update_many()
            .col_expr(staff_user::Column::TotpLastStep, Expr::value(step))
            .filter(staff_user::Column::Id.eq(user.id))
            .filter(
                sea_orm::Condition::any()
                    .add(staff_user::Column::TotpLastStep.is_null())
                    .add(staff_user::Column::TotpLastStep.lt(step)),
            )
            .exec(conn)
            .await?
            .rows_affected
            == 1;
        return Ok(first_use.then_some("app"));
    }
    Ok(use_recovery_code(conn, platform, user.id, code).await?.then_some("recovery_code"))
}

/// The enrolment in progress (started, not yet confirmed), to show again.
pub async fn pending(platform: &Platform, principal: &StaffPrincipal) -> DomainResult<Option<Enrolment>> {
    let user = accounts::get(platform, principal.scope(), principal.staff_id).await?;
    let (Some(secret), None) = (user.totp_secret, user.totp_enabled_at) else { return Ok(None) };
    let practice = practices::get(platform, principal.scope()).await?;
    let otpauth_url = totp(&secret, &user.username, &practice.name)?
        .to_url()
        .map_err(|e| DomainError::Unexpected(format!("totp url: {e:?}")))?;
    Ok(Some(Enrolment { secret, otpauth_url }))
}
