//! WAL checkpoints on a timer, off the commit path.
//!
//! SQLite's default is that the commit which takes the WAL past 1,000 pages
//! also copies them into the database file and syncs it before it returns,
//! so now and then one chat send waits for a whole checkpoint. Connections
//! here open with automatic checkpoints off, and a task checkpoints on a
//! timer instead, in PASSIVE mode, which never waits for the writer or the
//! readers. What that does to chat and to push latency, and the next step
//! (a size trigger beside the timer), are in docs/BENCHMARKS.md ("Chat
//! sockets", "Push deliveries").

use std::time::Duration;

use sea_orm::{ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

/// Connection pragmas: no checkpoint in a commit, and a WAL file cut back
/// to 64 MiB after a checkpoint empties it (a busy second can grow it more).
pub const PRAGMAS: [(&str, &str); 2] = [("wal_autocheckpoint", "0"), ("journal_size_limit", "67108864")];

/// How often the WAL is copied into the database file: rarely enough that
/// the sends a checkpoint slows stay out of chat's tail (docs/BENCHMARKS.md).
const EVERY: Duration = Duration::from_secs(1);

/// Checkpoints a SQLite database every [`EVERY`] until its pool closes;
/// nothing for PostgreSQL, which has its own.
pub fn start(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
                Ok(_) => {}
                Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)) => return,
                // The next tick tries again; meanwhile the WAL only grows.
                Err(err) => tracing::warn!(error = %err, "SQLite WAL checkpoint failed"),
            }
        }
    });
}
