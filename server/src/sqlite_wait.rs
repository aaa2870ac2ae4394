//! How a SQLite connection waits for another's write to finish.
//!
//! SQLite lets one connection write at a time; the others get SQLITE_BUSY
//! and call a busy handler. The stock one (`busy_timeout`) sleeps 1, 2, 5,
//! 10 … 100 ms between tries, while a write here holds the lock for well
//! under a millisecond, so a few writers in one process (the relay, the
//! delivery workers, requests) would mostly sleep (docs/BENCHMARKS.md, "Push
//! deliveries"). This handler tries again after tens of microseconds,
//! backing off to 1 ms, and gives up after about as long as the stock
//! five-second timeout.

use std::{ffi::c_void, os::raw::c_int, time::Duration};

use sea_orm::sqlx::{Error, SqliteConnection};

/// Tries before giving up: 112 short waits (about 20 ms in all), then 1 ms each.
const MAX_TRIES: c_int = 112 + 5_000;

/// The wait before try `tries + 1`: 10 µs doubling every 16 tries, at most 1 ms.
fn pause(tries: c_int) -> Duration {
    let doublings = u32::try_from(tries / 16).unwrap_or(u32::MAX).min(7);
    Duration::from_micros(10u64 << doublings).min(Duration::from_millis(1))
}

extern "C" fn on_busy(_: *mut c_void, tries: c_int) -> c_int {
    if tries >= MAX_TRIES {
        return 0;
    }
    // This runs on the connection's own sqlx worker thread, never on the async runtime.
    std::thread::sleep(pause(tries));
    1
}

/// Installs the handler on a freshly opened connection (replacing `busy_timeout`).
pub async fn install(conn: &mut SqliteConnection) -> Result<(), Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle, and the lock keeps the
    // worker thread off it meanwhile; the handler is a plain function that
    // reads nothing through its (null) argument.
    #[allow(unsafe_code)]
    let code = unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(on_busy), std::ptr::null_mut()) };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(Error::Protocol(format!("could not set the SQLite busy handler (code {code})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_short_and_stop_at_a_millisecond() {
        assert_eq!(pause(0), Duration::from_micros(10));
        assert_eq!(pause(16), Duration::from_micros(20));
        assert_eq!(pause(100), Duration::from_micros(640));
        assert_eq!(pause(4_000), Duration::from_millis(1));
        let total: Duration = (0..MAX_TRIES).map(pause).sum();
        assert!(total > Duration::from_secs(4) && total < Duration::from_secs(6), "{total:?}");
    }
}
