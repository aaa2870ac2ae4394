use petbridge_domain::db::entities::delivery::DeliveryStatus;
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::spawn_app;

#[tokio::test]
async fn a_new_staff_account_queues_an_email_that_the_dev_provider_records() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "jdoe", SecurityLevel::Manager).await;
    let token = app.login("maple-vets", "admin").await;

    let (status, page) = app.get_json("/api/dashboard/v1/deliveries", &token).await;
    assert_eq!(status, 200);
    let queued: Vec<_> =
        page["items"].as_array().unwrap().iter().filter(|d| d["recipient"] == "jdoe@maple-vets.test").collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["status"], "queued");
    assert_eq!(queued[0]["channel"], "email");
    assert!(queued[0]["reason"].as_str().unwrap().contains("staff account created"));

    let outcome = app.deliver_all().await;
    assert_eq!(outcome.sent, 2, "the admin's and jdoe's account emails");
    assert_eq!(app.deliver_all().await.sent, 0, "nothing is sent twice");

    let (_, page) = app.get_json("/api/dashboard/v1/deliveries", &token).await;
    for delivery in page["items"].as_array().unwrap() {
        assert_eq!(delivery["status"], "sent");
        assert_eq!(delivery["provider"], "dev");
        assert_eq!(delivery["attempts"], 1);
        assert!(delivery["sent_at"].is_string());
    }

    // Paging: one per page, newest first, then the end.
    let (_, first) = app.get_json("/api/dashboard/v1/deliveries?limit=1", &token).await;
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    let (_, second) = app.get_json(&format!("/api/dashboard/v1/deliveries?limit=1&after={next}"), &token).await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert!(second["next"].is_null());
}

/// A claim decides who sends a delivery and whose answer counts: the row a
/// claim carries (built as JSON by the database, for the stream entry) is the
/// row as stored, a claim that ran out and was claimed again can neither be
/// renewed nor record its answer, and the latest claim's answer is kept.
#[tokio::test]
async fn only_the_latest_claim_of_a_delivery_records_how_it_went() {
    use chrono::Duration;
    use petbridge_domain::{
        Scope,
        db::entities::delivery,
        deliveries::outbox::{self, Attempt, Channel, NewDelivery, Purpose},
        ports::SendOutcome,
    };
    use sea_orm::EntityTrait;

    let app = spawn_app().await;
    let fixture = app.practice("claim-vets").await;
    let platform = &app.platform;
    let txn = platform.begin_write().await.unwrap();
    let new = NewDelivery {
        channel: Channel::Push,
        recipient: "device-token-1".into(),
        subject: Some("Clinic closed Friday".into()),
        body: "We are closed on Friday for \"staff\" training.".into(),
        data: serde_json::json!({ "device_kind": "fcm_token", "push_data": { "kind": "blast", "n": 1 } }),
        reason: "message-center blast".into(),
        purpose: Purpose::Blast,
        client_id: None,
        not_before: None,
        sealed: None,
    };
    let id = outbox::enqueue(&txn, platform, Scope { practice_id: fixture.practice.id }, new).await.unwrap();
    txn.commit().await.unwrap();

    // A lease of zero: due again at once, as if its worker had gone silent.
    let first = outbox::claim_due(platform, &[Channel::Push], 10, Duration::zero()).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].id, first[0].attempt), (id, 1));
    let stored = delivery::Entity::find_by_id(id).one(&platform.db).await.unwrap().unwrap();
    assert_eq!(first[0].model().unwrap(), stored, "the claimed row's JSON is the stored row");

    let second = outbox::claim_due(platform, &[Channel::Push], 10, Duration::minutes(1)).await.unwrap();
    assert_eq!(second.iter().map(|row| (row.id, row.attempt)).collect::<Vec<_>>(), vec![(id, 2)]);
    assert!(outbox::claim_due(platform, &[Channel::Push], 10, Duration::minutes(1)).await.unwrap().is_empty());
    assert!(outbox::renew(platform, &[(id, 1)], Duration::minutes(1)).await.unwrap().is_empty());
    assert_eq!(outbox::renew(platform, &[(id, 2)], Duration::minutes(1)).await.unwrap(), vec![id]);

    let answer = |number: i32, provider_id: &str| Attempt {
        id,
        number,
        provider: "fcm",
        outcome: SendOutcome::Sent { provider_id: provider_id.into() },
        jitter: 0.0,
    };
    outbox::record_outcomes(platform, &[answer(1, "projects/p/messages/late")]).await.unwrap();
    let row = delivery::Entity::find_by_id(id).one(&platform.db).await.unwrap().unwrap();
    assert_eq!((row.status, row.provider_id), (DeliveryStatus::Queued, None), "the late answer changed nothing");

    outbox::record_outcomes(platform, &[answer(2, "projects/p/messages/2")]).await.unwrap();
    let row = delivery::Entity::find_by_id(id).one(&platform.db).await.unwrap().unwrap();
    assert_eq!(row.status, DeliveryStatus::Sent);
    assert_eq!(row.provider_id.as_deref(), Some("projects/p/messages/2"));
    assert!(row.sent_at.is_some());
}

/// A provider that takes its time, as texts do when they leave one a second.
struct Slow;

#[async_trait::async_trait]
impl petbridge_domain::ports::DeliveryProvider for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }

    async fn send(
        &self,
        delivery: &petbridge_domain::db::entities::delivery::Model,
    ) -> petbridge_domain::ports::SendOutcome {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        petbridge_domain::ports::SendOutcome::Sent { provider_id: format!("slow-{}", delivery.id) }
    }
}

/// A batch that takes longer than a claim lasts keeps renewing its claims,
/// so no other worker takes its rows and sends them a second time.
#[tokio::test]
async fn a_slow_batch_keeps_its_claims() {
    use std::{sync::Arc, time::Duration};

    use petbridge_domain::{
        db::entities::delivery,
        deliveries::outbox::{self, Channel},
    };
    use petbridge_workers::{Deliverer, Providers};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = spawn_app().await;
    app.practice("slow-vets").await; // its administrator's account email is due
    let slow: Arc<dyn petbridge_domain::ports::DeliveryProvider> = Arc::new(Slow);
    let providers = Providers { push: slow.clone(), sms: slow.clone(), email: slow };
    let lease = Duration::from_millis(300);
    let deliverer = Deliverer::new(app.platform.clone(), providers, 8, lease);
    let claimed = deliverer.claim_due(10).await.unwrap();
    assert!(!claimed.is_empty());
    let count = claimed.len();
    let ids: Vec<uuid::Uuid> = claimed.iter().map(|row| row.id).collect();

    let batch = tokio::spawn({
        let deliverer = deliverer.clone();
        async move { deliverer.deliver(claimed).await.unwrap() }
    });
    // Past the first lease on the server's clock: only a renewal (every 100 ms
    // of real time while the batch sends) moves the claims ahead of it again.
    app.clock.advance(chrono::Duration::seconds(1));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let rows = delivery::Entity::find()
            .filter(delivery::Column::Id.is_in(ids.clone()))
            .all(&app.platform.db)
            .await
            .unwrap();
        if rows.iter().all(|row| row.next_attempt_at > app.clock_now()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the batch never renewed its claims: {rows:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let taken = outbox::claim_due(&app.platform, &Channel::ALL, 10, chrono::Duration::seconds(30)).await.unwrap();
    assert!(taken.is_empty(), "another worker took {} rows of a batch still sending", taken.len());

    let delivered = batch.await.unwrap();
    assert_eq!(delivered.len(), count);
    assert!(delivered.iter().all(|d| d.status == outbox::DeliveryStatus::Sent), "{delivered:?}");
}

/// Due rows are claimed per channel: a relay whose push stream is full
/// still claims texts, and takes none of the pushes waiting behind it; a
/// claim over several channels takes up to its limit from each.
#[tokio::test]
async fn claims_take_due_rows_per_channel() {
    use chrono::Duration;
    use petbridge_domain::{
        Scope,
        deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    };

    let app = spawn_app().await;
    let fixture = app.practice("channel-vets").await; // queues its administrator's account email
    let platform = &app.platform;
    let scope = Scope { practice_id: fixture.practice.id };
    let new = |channel: Channel, recipient: &str| NewDelivery {
        channel,
        recipient: recipient.into(),
        subject: None,
        body: "Clinic closed Friday".into(),
        data: serde_json::json!({}),
        reason: "message-center blast".into(),
        purpose: Purpose::Blast,
        client_id: None,
        not_before: None,
        sealed: None,
    };
    let txn = platform.begin_write().await.unwrap();
    let mut pushes = Vec::new();
    for n in 0..3 {
        pushes.push(outbox::enqueue(&txn, platform, scope, new(Channel::Push, &format!("device-{n}"))).await.unwrap());
    }
    let text = outbox::enqueue(&txn, platform, scope, new(Channel::Sms, "+15551230000")).await.unwrap();
    txn.commit().await.unwrap();

    let lease = Duration::minutes(1);
    let texts = outbox::claim_due(platform, &[Channel::Sms], 10, lease).await.unwrap();
    assert_eq!(texts.iter().map(|row| row.id).collect::<Vec<_>>(), vec![text], "only the text, not the pushes");

    let two = outbox::claim_due(platform, &[Channel::Push], 2, lease).await.unwrap();
    assert_eq!(two.len(), 2);
    assert!(two.iter().all(|row| row.channel == "push" && pushes.contains(&row.id)));

    let mut rest: Vec<String> = outbox::claim_due(platform, &Channel::ALL, 1, lease)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.channel)
        .collect();
    rest.sort();
    assert_eq!(rest, vec!["email", "push"], "one of each channel with rows due: the last push and the account email");
    assert!(outbox::claim_due(platform, &Channel::ALL, 10, lease).await.unwrap().is_empty(), "every row is claimed");
}
