//! Push through FCM HTTP v1 (a local fake that checks every request's shape):
//! what each documented error does to the delivery and to the device, and
//! the Redis streams path surviving a flush of Redis.

use petbridge_domain::db::entities::delivery::DeliveryStatus;
use std::{sync::Arc, time::Duration};

use petbridge_domain::{
    Scope,
    db::entities::delivery,
    deliveries::outbox::{self, Channel, PushMessage},
};
use petbridge_tests::{
    TestApp, TestDatabase,
    fakes::{FakeFcm, FcmAnswer},
    services::require_redis,
    spawn_with, test_settings,
};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

async fn app_with_fcm(fake: &FakeFcm, redis: bool) -> TestApp {
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    fake.configure(&mut settings);
    if !redis {
        settings.redis.url = None;
    }
    spawn_with(settings, database).await
}

/// A verified owner logged in on devices with `tokens`; returns the access
/// token and the account id.
async fn owner_with_devices(app: &TestApp, practice: &str, email: &str, tokens: &[&str]) -> (String, Uuid) {
    let pair = app.sign_up(practice, email).await;
    app.verify_owner(email).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    for token in tokens {
        let body = json!({ "token": token, "platform": "android" });
        let (status, _) = app.app_call(Method::POST, "/devices", Some(&access), Some(body)).await;
        assert_eq!(status, 204);
    }
    (access, app.owner_account(email).await.id)
}

async fn push(app: &TestApp, practice_id: Uuid, account_id: Uuid, image: Option<&str>) -> Vec<Uuid> {
    let mut data = serde_json::Map::new();
    data.insert("kind".into(), json!("reminder"));
    data.insert("pet_count".into(), json!(2));
    outbox::enqueue_push(
        &app.platform.db,
        &app.platform,
        Scope { practice_id },
        account_id,
        PushMessage {
            title: "Mochi is due".into(),
            body: "Book the FVRCP booster".into(),
            data,
            image_url: image.map(str::to_owned),
            reason: "test".into(),
            purpose: outbox::Purpose::Notification,
            not_before: None,
            sealed: None,
        },
    )
    .await
    .unwrap()
}

async fn device_tokens(app: &TestApp, access: &str) -> Vec<String> {
    let (status, devices) = app.app_call(Method::GET, "/devices", Some(access), None).await;
    assert_eq!(status, 200);
    devices.as_array().unwrap().iter().map(|d| d["token"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn fcm_errors_drop_dead_devices_dead_letter_bad_messages_and_retry_the_rest() {
    let fake = FakeFcm::start().await;
    let app = app_with_fcm(&fake, false).await;
    let fixture = app.practice("push-vets").await;
    fake.answer_for_token("tok-uninstalled", FcmAnswer::Unregistered);
    fake.answer_for_token("tok-garbled", FcmAnswer::InvalidToken);
    fake.answer_for_token("tok-payload", FcmAnswer::InvalidPayload);
    let tokens = ["tok-good", "tok-uninstalled", "tok-garbled", "tok-payload"];
    let (access, account) = owner_with_devices(&app, "push-vets", "pia@example.com", &tokens).await;
    app.deliver_all().await; // the verification email

    let ids = push(&app, fixture.practice.id, account, Some("https://cdn.example.com/mochi.jpg")).await;
    assert_eq!(ids.len(), 4, "one delivery per device");
    app.deliver_all().await;

    let mut by_token = std::collections::HashMap::new();
    for id in &ids {
        let row = app.delivery(*id).await;
        by_token.insert(row.recipient.clone(), row);
    }
    let good = &by_token["tok-good"];
    assert_eq!(good.status, DeliveryStatus::Sent);
    assert_eq!(good.provider.as_deref(), Some("fcm"));
    assert!(good.provider_id.as_deref().unwrap().starts_with("projects/petbridge-test/messages/"), "{good:?}");
    assert_eq!(by_token["tok-uninstalled"].status, DeliveryStatus::Failed);
    assert!(by_token["tok-uninstalled"].last_error.as_deref().unwrap().contains("UNREGISTERED"));
    assert_eq!(by_token["tok-garbled"].status, DeliveryStatus::Failed);
    assert_eq!(by_token["tok-payload"].status, DeliveryStatus::Dead, "a payload error dead-letters the message");
    assert_eq!(
        device_tokens(&app, &access).await,
        vec!["tok-good".to_owned(), "tok-payload".to_owned()],
        "the unregistered and garbled tokens are dropped; the one whose message was bad is kept"
    );

    // What reached FCM: the documented shape, the notification id to drop
    // duplicates by, the image, and data values as strings.
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());
    assert_eq!(fake.accepted(&good.id.to_string()), 1);
    let message = &fake.messages()[0]["message"];
    assert_eq!(message["token"], "tok-good");
    assert_eq!(message["notification"]["image"], "https://cdn.example.com/mochi.jpg");
    assert_eq!(message["data"]["notification_id"], good.id.to_string());
    assert_eq!(message["data"]["pet_count"], "2");
    assert_eq!(fake.tokens_issued(), 1, "the access token is cached between sends");

    // 429 with Retry-After: queued again, not before the time FCM named.
    let (_, quinn) = owner_with_devices(&app, "push-vets", "quinn@example.com", &["tok-quinn"]).await;
    app.deliver_all().await;
    fake.answer_next([FcmAnswer::Quota { retry_after: 120 }]);
    let quota = push(&app, fixture.practice.id, quinn, None).await[0];
    app.deliver_all().await;
    let waiting = app.delivery(quota).await;
    assert_eq!(waiting.status, DeliveryStatus::Queued);
    assert!(waiting.last_error.as_deref().unwrap().contains("QUOTA_EXCEEDED"));
    // Measured from the row's own time: PostgreSQL keeps microseconds.
    assert!(waiting.next_attempt_at - waiting.created_at >= chrono::Duration::seconds(120), "{waiting:?}");
    app.clock.advance(chrono::Duration::seconds(119));
    assert_eq!(app.deliver_all().await.sent, 0, "not before Retry-After");
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(app.deliver_all().await.sent, 1);
    assert_eq!(app.delivery(quota).await.attempts, 2);

    // 5xx five times: backed off longer each time, then dead.
    fake.answer_next(std::iter::repeat_n(FcmAnswer::Unavailable, 5));
    let outage = push(&app, fixture.practice.id, quinn, None).await[0];
    let mut waits = Vec::new();
    for attempt in 1..=5 {
        app.deliver_all().await;
        let row = app.delivery(outage).await;
        assert_eq!(row.attempts, attempt);
        if attempt < 5 {
            assert_eq!(row.status, DeliveryStatus::Queued);
            let wait = row.next_attempt_at - app.clock_now();
            waits.push(wait);
            app.clock.advance(wait);
        } else {
            assert_eq!(row.status, DeliveryStatus::Dead, "given up after 5 tries");
        }
    }
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "the waits grow: {waits:?}");
}

/// `TEST_REDIS_URL` on a database index of its own, so this test can flush it.
fn own_redis_database(url: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path("/9");
    parsed.to_string()
}

#[tokio::test]
async fn streams_deliver_every_push_once_and_lose_nothing_when_redis_is_flushed() {
    let Some(redis) = require_redis() else { return };
    let fake = FakeFcm::start().await;
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    fake.configure(&mut settings);
    let redis_url = own_redis_database(&redis);
    settings.redis.url = Some(secrecy::SecretString::from(redis_url.clone()));
    settings.workers.batch = 50;
    settings.workers.in_flight = 16;
    settings.workers.block_ms = 100;
    // Rows whose entries the flush took go out again once their claims run out.
    settings.workers.claim_idle_ms = 2000;
    let app = spawn_with(settings.clone(), database).await;
    let fixture = app.practice("stream-vets").await;
    let tokens: Vec<String> = (0..100).map(|i| format!("tok-{i}")).collect();
    let token_refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let (_, account) = owner_with_devices(&app, "stream-vets", "sky@example.com", &token_refs).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.extend(push(&app, fixture.practice.id, account, None).await);
    }
    assert_eq!(ids.len(), 2000);

    let shutdown = tokio_util::sync::CancellationToken::new();
    let workers =
        petbridge::app::start_workers(&settings, &app.platform, app.providers.clone(), shutdown.clone()).await.unwrap();

    let total_accepted = || fake.accepted_counts().values().sum::<usize>();
    wait_for("a quarter of the pushes to reach FCM", || async { total_accepted() >= 500 }).await;
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHDB").query_async::<()>(&mut conn).await.unwrap();
    let at_flush = total_accepted();
    assert!(at_flush < 2000, "the flush came mid-run ({at_flush} already accepted)");

    // What the workers held goes on. Once nothing is due and the stream is
    // empty, the rows left are those whose entries the flush took: they stay
    // claimed until their claims run out on the server's clock.
    let stream = petbridge_workers::StreamKeys::new(&settings.redis.key_prefix).stream(Channel::Push);
    let app_ref = &app;
    wait_for("only the rows whose entries the flush took to be left", || {
        let (stream, mut conn) = (&stream, conn.clone());
        async move {
            let due = delivery::Entity::find()
                .filter(delivery::Column::Status.eq(delivery::DeliveryStatus::Queued))
                .filter(delivery::Column::NextAttemptAt.lte(app_ref.clock_now()))
                .count(&app_ref.platform.db)
                .await
                .unwrap();
            let waiting: u64 = redis::cmd("XLEN").arg(stream).query_async(&mut conn).await.unwrap();
            due == 0 && waiting == 0
        }
    })
    .await;
    app.clock.advance(chrono::Duration::seconds(3));

    let db = app.platform.db.clone();
    wait_for("every delivery to be sent", || {
        let db = db.clone();
        async move {
            delivery::Entity::find()
                .filter(delivery::Column::Status.ne(delivery::DeliveryStatus::Sent))
                .count(&db)
                .await
                .unwrap()
                == 0
        }
    })
    .await;
    shutdown.cancel();
    for worker in workers {
        worker.await.unwrap();
    }

    let counts = fake.accepted_counts();
    for id in &ids {
        assert!(counts.get(&id.to_string()).copied().unwrap_or(0) >= 1, "{id} never reached FCM");
    }
    let duplicates = total_accepted() - ids.len();
    // A lost entry's row is claimed again only after the workers fell idle,
    // so nothing should go twice; the bound leaves room for one batch in flight.
    assert!(duplicates <= 50, "{duplicates} duplicates");
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());
    let values: Vec<Value> = fake.messages().into_iter().take(1).collect();
    assert_eq!(values[0]["message"]["data"]["kind"], "reminder");
}

/// Polls `done` until it holds, failing after a minute.
async fn wait_for<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
