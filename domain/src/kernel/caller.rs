//! Who is calling and in which practice: every service call carries a
//! [`Scope`], and the signed-in people behind it.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{Code, DomainError, DomainResult, kernel::permissions::SecurityLevel};

/// Whose data a call may touch. Every service call carries one, and a record
/// outside it answers "not found", never "forbidden".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The practice (tenant) the caller belongs to.
    pub practice_id: Uuid,
}

/// Where a request came from, for the activity log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The request id (also sent back as `X-Request-Id`).
    pub request_id: Option<String>,
    /// The client's IP address.
    pub ip: Option<String>,
}

/// Who did something: a staff user, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The staff user's id; `None` for the system.
    pub id: Option<Uuid>,
    /// The name written on the activity log, kept after the user is deleted.
    pub name: String,
}

impl Actor {
    /// The server itself (first start, command line, timed jobs).
    pub fn system(what: &str) -> Self {
        Self { id: None, name: format!("system ({what})") }
    }

    /// An owner acting in the app.
    pub fn owner_in_app() -> Self {
        Self { id: None, name: OWNER_IN_APP.to_owned() }
    }

    /// An owner acting through a link we emailed them.
    pub fn owner_by_link() -> Self {
        Self { id: None, name: OWNER_BY_LINK.to_owned() }
    }

    /// Whether it is the owner themselves (who sees the outcome on screen).
    pub fn is_owner(&self) -> bool {
        self.id.is_none() && (self.name == OWNER_IN_APP || self.name == OWNER_BY_LINK)
    }
}

const OWNER_IN_APP: &str = "the owner, in the app";
const OWNER_BY_LINK: &str = "the owner, by the emailed link";

/// Permission granted: who acts, and who approved it if it took an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// The signed-in staff member.
    pub actor: Actor,
    /// The manager whose credentials approved the action.
    pub approver: Option<Actor>,
}

/// A signed-in staff member, as every dashboard handler sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPrincipal {
    /// The session.
    pub session_id: Uuid,
    /// The session's key: the SHA-256 of its token (not a secret).
    pub token_hash: String,
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
    /// The practice requires two-factor login of administrators and this
    /// one has not set it up: until they do, they may only do that.
    pub two_factor_setup_required: bool,
}

impl StaffPrincipal {
    /// The scope every call of theirs runs in.
    pub fn scope(&self) -> Scope {
        Scope { practice_id: self.practice_id }
    }

    /// How they appear on the activity log.
    pub fn actor(&self) -> Actor {
        Actor { id: Some(self.staff_id), name: self.username.clone() }
    }
}

/// An authenticated app user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerPrincipal {
    /// The account.
    pub account_id: Uuid,
    /// Its practice.
    pub practice_id: Uuid,
    /// The app session.
    pub session_id: Uuid,
    /// Whether the account's email is verified (most app features need it).
    pub verified: bool,
    pub(crate) access_hash: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl OwnerPrincipal {
    /// The practice scope.
    pub fn scope(&self) -> Scope {
        Scope { practice_id: self.practice_id }
    }

    /// Fails with `email_not_verified` unless the email is verified.
    pub fn require_verified(&self) -> DomainResult<()> {
        if self.verified { Ok(()) } else { Err(DomainError::from(Code::EmailNotVerified)) }
    }
}

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
