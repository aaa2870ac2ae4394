//! `petbridge worker` processes as an operator runs them beside the servers:
//! killed with SIGKILL at random points during a fan-out, they lose nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{process::Stdio, sync::Arc, time::Duration};

use petbridge_domain::{
    Scope,
    db::entities::delivery,
    deliveries::outbox::{self, Channel, NewDelivery},
};
use petbridge_tests::{
    TestDatabase,
    fakes::FakeFcm,
    services::{require_postgres, require_redis},
    spawn_with, test_settings,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_petbridge");

/// Deliveries each stream reader claims per step.
const BATCH: usize = 64;

/// Stream readers per worker process, each holding its own batch: a kill
/// can leave at most `READERS * BATCH` deliveries sent but unrecorded.
const READERS: usize = 2;

fn worker(database: &TestDatabase, redis_url: &str, prefix: &str, fake: &FakeFcm) -> Child {
    let mut command = Command::new(BIN);
    command
        .arg("worker")
        // In the test's own directory: the dev providers' mailbox and any file stay there.
        .current_dir(database.dir.path())
        .env("DATABASE_URL", &database.url)
        .env("REDIS_URL", redis_url)
        .env("PETBRIDGE__REDIS__KEY_PREFIX", prefix)
        .env("PETBRIDGE__WORKERS__BATCH", BATCH.to_string())
        .env("PETBRIDGE__WORKERS__IN_FLIGHT", BATCH.to_string())
        .env("PETBRIDGE__WORKERS__READERS", READERS.to_string())
        .env("PETBRIDGE__WORKERS__CLAIM_IDLE_MS", "1000")
        .env("PETBRIDGE__WORKERS__BLOCK_MS", "200")
        .env("PETBRIDGE__WORKERS__POLL_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (name, value) in fake.env() {
        command.env(name, value);
    }
    command.spawn().expect("start petbridge worker")
}

/// A number in `0..n` from the system's randomness.
fn random_below(n: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(n)) as u64
}

#[tokio::test]
async fn workers_killed_at_random_points_lose_nothing() {
    petbridge_tests::init();
    let (Some(_), Some(redis_url)) = (require_postgres(), require_redis()) else { return };
    let fake = FakeFcm::start().await;
    let database = Arc::new(TestDatabase::create().await);
    let settings = test_settings(&database).await;
    let prefix = settings.redis.key_prefix.clone();
    let app = spawn_with(settings, database.clone()).await;
    let fixture = app.practice("fanout-vets").await;

    // The fan-out, committed before any worker runs.
    const DELIVERIES: usize = 10_000;
    let txn = app.platform.begin_write().await.unwrap();
    let scope = Scope { practice_id: fixture.practice.id };
    for i in 0..DELIVERIES {
        let new = NewDelivery {
            channel: Channel::Push,
            recipient: format!("device-{i}"),
            subject: Some("Clinic closed Friday".into()),
            body: "We are closed on Friday for staff training.".into(),
            data: serde_json::json!({ "device_kind": "fcm_token" }),
            reason: "message-center blast".into(),
            purpose: outbox::Purpose::Blast,
            client_id: None,
            not_before: None,
            sealed: None,
        };
        outbox::enqueue(&txn, &app.platform, scope, new).await.unwrap();
    }
    txn.commit().await.unwrap();

    let mut workers: Vec<Child> = (0..3).map(|_| worker(&database, &redis_url, &prefix, &fake)).collect();
    let accepted = || fake.accepted_counts().values().sum::<usize>();
    let mut kills = 0;
    while kills < 6 && accepted() < DELIVERIES {
        tokio::time::sleep(Duration::from_millis(200 + random_below(500))).await;
        let victim = usize::try_from(random_below(workers.len() as u64)).unwrap();
        workers[victim].start_kill().unwrap(); // SIGKILL: no chance to finish anything
        workers[victim].wait().await.unwrap();
        workers[victim] = worker(&database, &redis_url, &prefix, &fake);
        kills += 1;
    }
    assert!(kills >= 2, "the fan-out finished before the workers could be killed twice");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let unsent = || async {
        delivery::Entity::find()
            .filter(delivery::Column::Status.ne(delivery::DeliveryStatus::Sent))
            .count(&app.platform.db)
            .await
            .unwrap()
    };
    while unsent().await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "{} deliveries never got sent", unsent().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for mut worker in workers {
        worker.start_kill().ok();
        worker.wait().await.ok();
    }

    let rows =
        delivery::Entity::find().filter(delivery::Column::Channel.eq("push")).all(&app.platform.db).await.unwrap();
    let counts = fake.accepted_counts();
    assert_eq!(rows.len(), DELIVERIES);
    for row in &rows {
        assert_eq!(row.status, delivery::DeliveryStatus::Sent);
        assert!(counts.get(&row.id.to_string()).copied().unwrap_or(0) >= 1, "{} never reached FCM", row.id);
    }
    let duplicates = accepted() - DELIVERIES;
    let held = READERS * BATCH;
    assert!(
        duplicates <= kills * held,
        "{duplicates} duplicates after {kills} kills of workers holding at most {held} sends each"
    );
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());
    eprintln!("{kills} kills, {duplicates} duplicate sends");
}
