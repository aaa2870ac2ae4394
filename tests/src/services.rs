//! The outside services a test may need: a database of its own, Redis,
//! localstripe.
//!
//! Without `TEST_DATABASE_URL` a test gets a temporary SQLite file. A test
//! that needs Redis (or PostgreSQL) and finds no URL is skipped with a printed
//! reason; with `CI=true` that is a failure, except in the embedded pass
//! (`PETBRIDGE_TEST_PASS=embedded`), which runs on SQLite and in-process on
//! purpose.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, Database};

/// Whether we run in CI.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn embedded_pass() -> bool {
    std::env::var("PETBRIDGE_TEST_PASS").is_ok_and(|v| v == "embedded")
}

fn non_empty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `TEST_REDIS_URL`, if set.
pub fn redis_url() -> Option<String> {
    non_empty("TEST_REDIS_URL")
}

/// `TEST_LOCALSTRIPE_URL`, if set: localstripe (PyPI), a stateful stand-in
/// for Stripe's API that `.ci/run` starts on loopback.
pub fn localstripe_url() -> Option<String> {
    non_empty("TEST_LOCALSTRIPE_URL")
}

/// For a test that cannot run without `what`: `Some(value)`, or `None` after
/// printing why the test is skipped. In CI outside the embedded pass, a
/// missing service fails the test instead.
pub fn require(what: &str, value: Option<String>, how: &str) -> Option<String> {
    if value.is_some() {
        return value;
    }
    if ci() && !embedded_pass() {
        panic!("CI=true but {what} is not available: {how}");
    }
    eprintln!("skipped: needs {what} ({how})");
    None
}

/// What poppler's `tool` (`pdftotext`, `pdffonts`) prints of `pdf`; `None`,
/// after printing why, where poppler-utils is not installed (with
/// `CI=true`, which installs it, a failure).
pub fn poppler(tool: &str, pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).unwrap();
    let mut command = std::process::Command::new(tool);
    command.arg(&path);
    if tool == "pdftotext" {
        command.arg("-"); // to stdout; pdffonts prints there already
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(err) if !ci() => {
            eprintln!("skipped: needs {tool} ({err}; apt-get install poppler-utils)");
            return None;
        }
        Err(err) => panic!("CI=true but {tool} is not available ({err}): apt-get install poppler-utils"),
    };
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(String::from_utf8(output.stdout).unwrap())
}

/// Redis, or a printed skip.
pub fn require_redis() -> Option<String> {
    require("Redis", redis_url(), "set TEST_REDIS_URL=redis://127.0.0.1:6379")
}

/// PostgreSQL, or a printed skip.
pub fn require_postgres() -> Option<String> {
    require(
        "PostgreSQL",
        non_empty("TEST_DATABASE_URL"),
        "set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
    )
}

/// A database that lives as long as the test: a SQLite file in a temporary
/// directory, or a fresh PostgreSQL database dropped afterwards.
pub struct TestDatabase {
    /// The URL the server connects to.
    pub url: String,
    /// A temporary directory for the SQLite file and stored files.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates the database.
    pub async fn create() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match non_empty("TEST_DATABASE_URL") {
            Some(admin_url) => {
                let name = format!("pb_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL parses");
                url.set_path(&format!("/{name}"));
                Self { url: url.to_string(), dir, postgres: Some((admin_url, name)) }
            }
            None => {
                let file = dir.path().join("test.db");
                Self { url: format!("sqlite://{}?mode=rwc", file.display()), dir, postgres: None }
            }
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sweeping = crate::card_scan::directory().is_some();
        let postgres = self.postgres.take();
        if postgres.is_none() && !sweeping {
            return;
        }
        let url = self.url.clone();
        // Drop runs outside async: a thread with its own runtime does the work.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                if sweeping {
                    let place = match &postgres {
                        Some((_, name)) => format!("PostgreSQL {name}"),
                        None => url.clone(),
                    };
                    match crate::card_scan::tables_with_cards(&url).await {
                        Ok(tables) => {
                            tables.iter().for_each(|table| crate::card_scan::record(&format!("{place}, table {table}")))
                        }
                        Err(err) => crate::card_scan::unread(&place, &err.to_string()),
                    }
                    crate::card_scan::scanned(&place);
                }
                let Some((admin_url, name)) = postgres else { return Some(()) };
                let admin = Database::connect(&admin_url).await.ok()?;
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop a test database; it will be left behind");
        }
    }
}
