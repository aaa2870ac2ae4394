//! Short-lived copies of what nearly every request reads: live sessions and
//! practices. A change is announced on the bus so that every instance drops
//! its copy at once; entries also expire after a few seconds, which bounds
//! staleness should an announcement be lost (a Redis reconnect).

use std::time::Duration;

use chrono::{DateTime, Utc};

use moka::sync::Cache;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use crate::kernel::{
    caller::{OwnerPrincipal, SessionPolicy, StaffPrincipal},
    practice::Practice,
};

/// A live session as the cache keeps it.
#[derive(Debug, Clone)]
pub struct CachedSession {
    pub(crate) principal: StaffPrincipal,
    pub(crate) last_seen_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
}

impl CachedSession {
    pub(crate) fn is_live(&self, policy: &SessionPolicy, now: DateTime<Utc>) -> bool {
        now < self.expires_at && now < self.last_seen_at + policy.idle
    }
}

/// The bus topic that carries invalidations.
pub const TOPIC: &str = "cache.invalidate";

/// How long a copy may be used before it is read again.
const TIME_TO_LIVE: Duration = Duration::from_secs(10);

/// The caches of one server process.
#[derive(Clone)]
pub struct Caches {
    pub(crate) sessions: Cache<String, CachedSession>,
    pub(crate) practices: Cache<Uuid, Practice>,
    pub(crate) owner_sessions: Cache<String, OwnerPrincipal>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            sessions: Cache::builder().max_capacity(100_000).time_to_live(TIME_TO_LIVE).build(),
            practices: Cache::builder().max_capacity(10_000).time_to_live(TIME_TO_LIVE).build(),
            owner_sessions: Cache::builder().max_capacity(200_000).time_to_live(TIME_TO_LIVE).build(),
        }
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("sessions", &self.sessions.entry_count())
            .field("practices", &self.practices.entry_count())
            .field("owner_sessions", &self.owner_sessions.entry_count())
            .finish()
    }
}

/// What to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One session, by its token hash.
    Session(String),
    /// Every session (a user was locked, deleted or changed password).
    AllSessions,
    /// One practice.
    Practice(Uuid),
    /// One app session, by its access token hash.
    OwnerSession(String),
}

impl Invalidation {
    pub(crate) fn encode(&self) -> String {
        match self {
            Invalidation::Session(hash) => format!("session:{hash}"),
            Invalidation::AllSessions => "sessions".to_owned(),
            Invalidation::Practice(id) => format!("practice:{id}"),
            Invalidation::OwnerSession(hash) => format!("owner:{hash}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        match text.split_once(':') {
            Some(("session", hash)) => Some(Invalidation::Session(hash.to_owned())),
            Some(("practice", id)) => Uuid::parse_str(id).ok().map(Invalidation::Practice),
            Some(("owner", hash)) => Some(Invalidation::OwnerSession(hash.to_owned())),
            None if text == "sessions" => Some(Invalidation::AllSessions),
            _ => None,
        }
    }
}

impl Caches {
    pub(crate) fn apply(&self, invalidation: &Invalidation) {
        match invalidation {
            Invalidation::Session(hash) => self.sessions.invalidate(hash),
            Invalidation::AllSessions => self.sessions.invalidate_all(),
            Invalidation::Practice(id) => self.practices.invalidate(id),
            Invalidation::OwnerSession(hash) => self.owner_sessions.invalidate(hash),
        }
    }

    fn clear(&self) {
        self.sessions.invalidate_all();
        self.practices.invalidate_all();
        self.owner_sessions.invalidate_all();
    }

    /// Applies the invalidations other instances announce, until the bus
    /// closes. Subscribe before spawning this, so nothing is missed.
    pub async fn follow(self, mut announcements: Receiver<bytes::Bytes>) {
        loop {
            match announcements.recv().await {
                Ok(message) => {
                    if let Some(invalidation) = std::str::from_utf8(&message).ok().and_then(Invalidation::decode) {
                        self.apply(&invalidation);
                    }
                }
                // Missed some: forget everything rather than guess.
                Err(RecvError::Lagged(_)) => self.clear(),
                Err(RecvError::Closed) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_round_trip() {
        for invalidation in [
            Invalidation::Session("abc".into()),
            Invalidation::AllSessions,
            Invalidation::Practice(Uuid::new_v4()),
            Invalidation::OwnerSession("def".into()),
        ] {
            assert_eq!(Invalidation::decode(&invalidation.encode()), Some(invalidation));
        }
        assert_eq!(Invalidation::decode("nonsense"), None);
    }
}
