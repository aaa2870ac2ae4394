//! WAL checkpoints on a timer, off the commit path.
//!
//! SQLite's default is that the commit which takes the WAL past 1,000 pages
//! also copies them into the database file and syncs it before it returns.
//! A chat send writes about seven pages, so one send in ~140 waited for
//! that: the tail of owner → staff latency. Connections here open with
//! automatic checkpoints off, and a task checkpoints once a second instead,
//! in PASSIVE mode, which never waits for the writer or readers. A message
//! sent while it runs still waits a little (the core is shared), but one
//! in thousands rather than one in a hundred. The cost: at the delivery
//! outbox's write rate a second of WAL is large, and push latency rose
//! (docs/BENCHMARKS.md); a size trigger beside the timer is the next step.

use std::time::Duration;

use sea_orm::{ConnAcquireErr, ConnectionTrait, DatabaseConnection, DbBackend, DbErr};

/// Connection pragmas: no checkpoint in a commit, and a WAL file cut back
/// to 64 MiB after a checkpoint empties it (a busy second can grow it more).
pub const PRAGMAS: [(&str, &str); 2] = [("wal_autocheckpoint", "0"), ("journal_size_limit", "67108864")];

/// How often the WAL is copied into the database file. Timed on the
/// owner → staff run: every 250 ms, the stalls behind checkpoints touched
/// about 1 % of messages, so they set the p99.
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
