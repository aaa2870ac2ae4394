//! Staff sessions: opaque random tokens, stored as SHA-256, with an idle and
//! an absolute timeout. Logging out revokes the session.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform,
    db::entities::{session, staff_user},
    kernel::{caller::StaffPrincipal, permissions::SecurityLevel, tokens},
    ports::caches::CachedSession,
};

/// Last-seen times are written at most this often, so that reads stay reads.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A new session: the token to hand to the client, once.
#[derive(Debug)]
pub struct NewSession {
    /// The bearer token / cookie value. Never stored.
    pub token: String,
    /// The CSRF token bound to this session.
    pub csrf_token: String,
    /// When it ends at the latest.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// How long a password-checked login waits for its second factor.
pub const SECOND_FACTOR_WINDOW: Duration = Duration::minutes(5);

/// Opens a session for `staff` on `conn`; with `second_factor_pending` it
/// is good for nothing but completing the login with a code.
pub async fn open(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    staff: &staff_user::Model,
    origin: &Origin,
    user_agent: Option<&str>,
    second_factor_pending: bool,
) -> DomainResult<NewSession> {
    let now = platform.clock.now();
    let token = tokens::random_token()?;
    let csrf_token = tokens::random_token()?;
    let expires_at = now + platform.sessions.absolute;
    session::ActiveModel {
        id: Set(Uuid::new_v4()),
        token_hash: Set(tokens::token_hash(&token)),
        practice_id: Set(staff.practice_id),
        staff_user_id: Set(staff.id),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ip: Set(origin.ip.clone()),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(300).collect())),
        second_factor_pending: Set(second_factor_pending),
        second_factor_failures: Set(0),
    }
    .insert(conn)
    .await?;
    Ok(NewSession { token, csrf_token, expires_at })
}

/// The staff member behind a token, if the session is live and the account
/// is neither locked nor deleted. Counts as use: it restarts the idle timer.
///
/// Most calls are answered from the session cache; the database is read
/// again when the copy is older than a few seconds or the last-seen time is
/// due to be written (once a minute).
pub async fn authenticate(platform: &Platform, token: &str) -> DomainResult<StaffPrincipal> {
    let hash = tokens::token_hash(token);
    let now = platform.clock.now();
    if let Some(cached) = platform.caches.sessions.get(&hash)
        && cached.is_live(&platform.sessions, now)
        && now - cached.last_seen_at < TOUCH_EVERY
    {
        return Ok(cached.principal);
    }
    let mut session = load(platform, &hash).await?;
    if now - session.last_seen_at >= TOUCH_EVERY {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(session.principal.session_id))
            .exec(&platform.db)
            .await?;
        session.last_seen_at = now;
    }
    platform.caches.sessions.insert(hash, session.clone());
    Ok(session.principal)
}

/// Whether a session is still live, read from the database and without
/// counting as use (an open dashboard tab must not keep its session alive).
pub async fn still_live(platform: &Platform, token: &str) -> bool {
    load(platform, &tokens::token_hash(token)).await.is_ok()
}

async fn load(platform: &Platform, token_hash: &str) -> DomainResult<CachedSession> {
    let unauthorized = || DomainError::from(Code::SessionInvalid);
    let (session, staff) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash))
        .find_also_related(staff_user::Entity)
        .one(&platform.db)
        .await?
        .ok_or_else(unauthorized)?;
    let staff = staff.ok_or_else(unauthorized)?;
    let level = SecurityLevel::parse(&staff.level)?;
    let practice = crate::practices::get(platform, crate::Scope { practice_id: staff.practice_id }).await?;
    let two_factor_setup_required = level == SecurityLevel::Administrator
        && practice.settings.require_admin_two_factor
        && staff.totp_enabled_at.is_none();
    let cached = CachedSession {
        principal: StaffPrincipal {
            session_id: session.id,
            token_hash: session.token_hash,
            staff_id: staff.id,
            practice_id: staff.practice_id,
            level,
            username: staff.username,
            display_name: staff.display_name,
            csrf_token: session.csrf_token,
            two_factor_setup_required,
        },
        last_seen_at: session.last_seen_at,
        expires_at: session.expires_at,
    };
    let usable = session.revoked_at.is_none()
        && !session.second_factor_pending
        && staff.locked_at.is_none()
        && staff.deleted_at.is_none();
    if !usable || !cached.is_live(&platform.sessions, platform.clock.now()) {
        return Err(unauthorized());
    }
    Ok(cached)
}

/// Ends every session of a staff member (lock, delete, password change).
pub async fn revoke_all(conn: &impl ConnectionTrait, platform: &Platform, staff_id: Uuid) -> DomainResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(platform.clock.now()))
        .filter(session::Column::StaffUserId.eq(staff_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a session (logout). Ending an unknown or ended session is not an error.
pub async fn revoke(conn: &impl ConnectionTrait, platform: &Platform, session_id: Uuid) -> DomainResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(platform.clock.now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
