//! Login timing, in a test binary of its own: cargo runs test binaries one
//! after another, so no other test competes for the CPU while it measures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use petbridge_tests::{TestApp, TestDatabase, spawn_with, test_settings};
use serde_json::json;

async fn login_status(app: &TestApp, user: &str, password: &str) -> u16 {
    let body = json!({ "practice": "maple-vets", "username": user, "password": password });
    app.client.post(app.url("/api/dashboard/v1/auth/login")).json(&body).send().await.unwrap().status().as_u16()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_take_the_same_time() {
    let database = std::sync::Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    settings.sessions.login_attempts_per_minute = 100_000;
    let app = spawn_with(settings, database).await;
    app.practice("maple-vets").await;
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        // Interleaved, so drifts in machine load fall on both alike.
        let started = Instant::now();
        assert_eq!(login_status(&app, "nobody-here", "some password guess").await, 401);
        unknown.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(login_status(&app, "admin", "some password guess").await, 401);
        wrong.push(started.elapsed());
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    let difference = unknown.abs_diff(wrong).as_secs_f64() / unknown.max(wrong).as_secs_f64();
    assert!(difference < 0.10, "median unknown user {unknown:?}, wrong password {wrong:?}");
}
