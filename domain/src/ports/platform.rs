//! Everything a service needs from the running system, in one value that the
//! API crates and workers share. No global state: tests build one per app.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::{
    kernel::{caller::SessionPolicy, passwords::Passwords, throttle::LoginThrottle},
    ports::{
        Bus, Clock, PaymentGateway, Storage,
        caches::{self, Caches, Invalidation},
    },
};

/// The database, the ports and the policies of one running server.
#[derive(Clone)]
pub struct Platform {
    /// The database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Where [`Self::begin_write`] transactions and the outbox's claims and
    /// outcomes run. On SQLite, one connection of its own: its page cache
    /// stays warm (SQLite empties a connection's cache whenever another
    /// connection has written) and its writes queue here instead of retrying
    /// SQLite's lock. On PostgreSQL, the same pool as `db`. Never begin one
    /// while holding another.
    pub writer: DatabaseConnection,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// Publish/subscribe between instances.
    pub bus: Arc<dyn Bus>,
    /// Files.
    pub storage: Storage,
    /// The payment gateway cards are saved with and charged through.
    pub payments: Arc<dyn PaymentGateway>,
    /// Password hashing, bounded so a login flood cannot starve the server.
    pub passwords: Passwords,
    /// How long staff sessions live.
    pub sessions: SessionPolicy,
    /// Copies of hot records, kept fresh through the bus.
    pub caches: Caches,
    /// Login attempts per client address.
    pub login_throttle: LoginThrottle,
    /// The address people reach this server at, for links in emails.
    pub public_url: String,
    /// Set when a deployment that is not the embedded demo delivers through
    /// the development providers: what every dashboard page warns of.
    pub dev_delivery_warning: Option<String>,
}

impl Platform {
    /// An absolute link to `path` on this server.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.trim_end_matches('/'))
    }

    /// Forgets a cached copy here and on every other instance.
    pub async fn invalidate(&self, invalidation: Invalidation) {
        self.caches.apply(&invalidation);
        if let Err(err) = self.bus.publish(caches::TOPIC, bytes::Bytes::from(invalidation.encode())).await {
            // Other instances' copies expire within the caches' time to live anyway.
            tracing::warn!(error = %err, "could not announce a cache invalidation");
        }
    }

    /// A write transaction ([`crate::db::transaction::begin_write`]) on the
    /// writer connection.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        crate::db::transaction::begin_write(&self.writer).await
    }
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("bus", &self.bus.kind())
            .field("clock", &self.clock)
            .field("payments", &self.payments.name())
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}
