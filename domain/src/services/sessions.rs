//! Staff sessions: opaque random tokens, stored as SHA-256, with an idle and
//! an absolute timeout. Logging out revokes the session.

use chrono::Duration;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Origin, Platform, Scope,
    entities::{session, staff_user},
    services::{staff::SecurityLevel, tokens},
};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ends a session nobody used for this long.
    pub idle: Duration,
    /// Ends every session this long after login.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::hours(2), absolute: Duration::hours(12) }
    }
}

/// Last-seen times are written at most this often, so that reads stay reads.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A signed-in staff member, as every dashboard handler sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPrincipal {
    /// The session.
    pub session_id: Uuid,
    /// The user.
    pub staff_id: Uuid,
    /// Their practice.
    pub practice_id: Uuid,
    /// Their user name.
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Their security level.
    pub level: SecurityLevel,
    /// The session's CSRF token, for forms and cookie-authenticated writes.
    pub csrf_token: String,
}

impl StaffPrincipal {
    /// The scope every call of theirs runs in.
    pub fn scope(&self) -> Scope {
        Scope { practice_id: self.practice_id }
    }

    /// How they appear on the activity log.
    pub fn actor(&self) -> crate::Actor {
        crate::Actor { id: Some(self.staff_id), name: self.username.clone() }
    }
}

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

/// Opens a session for `staff` on `conn`.
pub async fn open(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    staff: &staff_user::Model,
    origin: &Origin,
    user_agent: Option<&str>,
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
    }
    .insert(conn)
    .await?;
    Ok(NewSession { token, csrf_token, expires_at })
}

/// The staff member behind a token, if the session is live and the account
/// is neither locked nor deleted. Counts as use: it restarts the idle timer.
pub async fn authenticate(platform: &Platform, token: &str) -> DomainResult<StaffPrincipal> {
    let (principal, last_seen_at) = live(platform, token).await?;
    let now = platform.clock.now();
    if now - last_seen_at >= TOUCH_EVERY {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(principal.session_id))
            .exec(&platform.db)
            .await?;
    }
    Ok(principal)
}

/// Whether a session is still live, without counting as use (an open
/// dashboard tab must not keep its session alive forever).
pub async fn still_live(platform: &Platform, token: &str) -> bool {
    live(platform, token).await.is_ok()
}

async fn live(platform: &Platform, token: &str) -> DomainResult<(StaffPrincipal, chrono::DateTime<chrono::Utc>)> {
    let unauthorized = || DomainError::Unauthorized("session_invalid");
    let now = platform.clock.now();
    let (session, staff) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(tokens::token_hash(token)))
        .find_also_related(staff_user::Entity)
        .one(&platform.db)
        .await?
        .ok_or_else(unauthorized)?;
    let staff = staff.ok_or_else(unauthorized)?;
    let live = session.revoked_at.is_none()
        && now < session.expires_at
        && now < session.last_seen_at + platform.sessions.idle
        && staff.locked_at.is_none()
        && staff.deleted_at.is_none();
    if !live {
        return Err(unauthorized());
    }
    let principal = StaffPrincipal {
        session_id: session.id,
        staff_id: staff.id,
        practice_id: staff.practice_id,
        level: SecurityLevel::parse(&staff.level)?,
        username: staff.username,
        display_name: staff.display_name,
        csrf_token: session.csrf_token,
    };
    Ok((principal, session.last_seen_at))
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
