//! Texts through a Twilio-style API (a local fake that checks each request
//! and enforces a per-number rate): signed webhooks, STOP/START/HELP, the
//! provider's opt-out error, status reports, quiet hours and pacing.

use petbridge_domain::db::entities::delivery::DeliveryStatus;
use std::sync::Arc;

use chrono::TimeZone;
use petbridge_domain::{
    Scope,
    deliveries::outbox::Purpose,
    kernel::text::Phone,
    practices,
    texting::{self, sending::NewText},
};
use petbridge_tests::{TestApp, TestDatabase, fakes::FakeSms, spawn_with, test_settings};
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

const PRACTICE_NUMBER: &str = "+13035550100";
const OWNER: &str = "+13035550123";

async fn app_with_sms(fake: &FakeSms, per_second: u32) -> (TestApp, Scope) {
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    fake.configure(&mut settings, per_second);
    let app = spawn_with(settings, database).await;
    let fixture = app.practice("text-vets").await;
    let admin = app.login("text-vets", "admin").await;
    let response = app
        .client
        .patch(app.url("/api/dashboard/v1/practice/settings"))
        .bearer_auth(&admin)
        .json(&json!({ "sms_number": "(303) 555-0100" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["sms_number"], PRACTICE_NUMBER, "stored in E.164");
    (app, Scope { practice_id: fixture.practice.id })
}

/// Posts a webhook signed as the provider signs it (or with `signature` instead).
async fn webhook(app: &TestApp, hook: &str, params: &[(&str, &str)], signature: Option<&str>) -> u16 {
    let owned: Vec<(String, String)> = params.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    let path = format!("/hooks/sms/{hook}");
    let url = format!("{}{path}", app.settings.server.public_url.trim_end_matches('/'));
    let token = app.settings.sms.auth_token.as_ref().map(|t| secrecy::ExposeSecret::expose_secret(t).to_owned());
    let real = petbridge_workers::sms::signature(&token.unwrap_or_default(), &url, &owned);
    let mut request = app.client.post(app.url(&path)).form(&owned);
    match signature {
        Some("") => {}
        Some(forged) => request = request.header("x-twilio-signature", forged),
        None => request = request.header("x-twilio-signature", real),
    }
    request.send().await.unwrap().status().as_u16()
}

async fn inbound(app: &TestApp, sid: &str, body: &str, signature: Option<&str>) -> u16 {
    let params = [("MessageSid", sid), ("From", OWNER), ("To", PRACTICE_NUMBER), ("Body", body), ("AccountSid", "AC1")];
    webhook(app, "inbound", &params, signature).await
}

async fn text(app: &TestApp, scope: Scope, to: &str, urgent: bool) -> Uuid {
    let practice = practices::get(&app.platform, scope).await.unwrap();
    let new = NewText {
        to: Phone::parse(to).unwrap(),
        body: "Mochi is due for a booster".into(),
        reason: "test".into(),
        urgent,
        purpose: Purpose::Reminder,
        client_id: None,
    };
    texting::sending::enqueue(&app.platform.db, &app.platform, &practice, new).await.unwrap()
}

#[tokio::test]
async fn stop_start_and_help_arrive_signed_and_every_sender_honours_them() {
    let fake = FakeSms::start(10).await;
    let (app, scope) = app_with_sms(&fake, 8).await;
    app.deliver_all().await;

    // A forged or missing signature: 403, and nothing changes.
    assert_eq!(inbound(&app, "SM-forged", "STOP", Some("bm90IGEgc2lnbmF0dXJl")).await, 403);
    assert_eq!(inbound(&app, "SM-unsigned", "STOP", Some("")).await, 403);
    assert!(!texting::opt_outs::is_opted_out(&app.platform, scope.practice_id, OWNER).await.unwrap());
    assert_eq!(webhook(&app, "status", &[("MessageSid", "SM1"), ("MessageStatus", "failed")], Some("x")).await, 403);

    // STOP, signed: every later text to that number is skipped, not sent.
    assert_eq!(inbound(&app, "SM-stop", "  stop ", None).await, 200);
    assert!(texting::opt_outs::is_opted_out(&app.platform, scope.practice_id, OWNER).await.unwrap());
    let blocked = text(&app, scope, OWNER, true).await;
    app.deliver_all().await;
    assert_eq!(app.delivery(blocked).await.status, DeliveryStatus::Skipped);
    assert!(app.delivery(blocked).await.last_error.unwrap().contains("opted out"));
    assert!(fake.texts().is_empty(), "0 texts after STOP: {:?}", fake.texts());

    // START resumes; the STOP webhook repeated by the provider changes nothing.
    assert_eq!(inbound(&app, "SM-start", "Start", None).await, 200);
    assert_eq!(inbound(&app, "SM-stop", "STOP", None).await, 200);
    assert!(!texting::opt_outs::is_opted_out(&app.platform, scope.practice_id, OWNER).await.unwrap());
    let resumed = text(&app, scope, OWNER, true).await;
    app.deliver_all().await;
    assert_eq!(app.delivery(resumed).await.status, DeliveryStatus::Sent);

    // HELP is answered at once with the practice's information.
    assert_eq!(inbound(&app, "SM-help", "HELP", None).await, 200);
    app.deliver_all().await;
    let texts = fake.texts();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[1].0, PRACTICE_NUMBER);
    assert_eq!(texts[1].1, OWNER);
    assert!(texts[1].2.contains("text-vets Veterinary Clinic") && texts[1].2.contains("STOP"), "{:?}", texts[1]);
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());

    // A status report marks an undelivered text failed.
    let sid = app.delivery(resumed).await.provider_id.unwrap();
    let report = [("MessageSid", sid.as_str()), ("MessageStatus", "undelivered"), ("ErrorCode", "30003")];
    assert_eq!(webhook(&app, "status", &report, None).await, 204);
    let reported = app.delivery(resumed).await;
    assert_eq!(reported.status, DeliveryStatus::Failed);
    assert_eq!(reported.provider_status.as_deref(), Some("undelivered"));
}

#[tokio::test]
async fn the_providers_opt_out_error_stops_texts_to_that_number() {
    let fake = FakeSms::start(10).await;
    let (app, scope) = app_with_sms(&fake, 8).await;
    fake.answer_for("+13035550199", petbridge_tests::fakes::SmsAnswer::OptedOut);
    let refused = text(&app, scope, "+13035550199", true).await;
    app.deliver_all().await;
    assert_eq!(app.delivery(refused).await.status, DeliveryStatus::Failed);
    assert!(texting::opt_outs::is_opted_out(&app.platform, scope.practice_id, "+13035550199").await.unwrap());
    let next = text(&app, scope, "+13035550199", true).await;
    app.deliver_all().await;
    assert_eq!(app.delivery(next).await.status, DeliveryStatus::Skipped);
    assert!(fake.texts().is_empty());
}

#[tokio::test]
async fn a_text_due_at_half_past_nine_at_night_goes_out_at_eight_next_morning() {
    let fake = FakeSms::start(10).await;
    let (app, scope) = app_with_sms(&fake, 8).await;
    let denver = chrono_tz::America::Denver;
    let local =
        |d: u32, h: u32, m: u32| denver.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap().with_timezone(&chrono::Utc);
    app.clock.set(local(2, 21, 30));
    let waiting = text(&app, scope, OWNER, false).await;
    app.deliver_all().await;
    app.clock.set(local(3, 7, 59));
    app.deliver_all().await;
    assert!(fake.texts().is_empty(), "nothing at night");
    assert_eq!(app.delivery(waiting).await.status, DeliveryStatus::Queued);
    app.clock.set(local(3, 8, 0));
    app.deliver_all().await;
    assert_eq!(app.delivery(waiting).await.status, DeliveryStatus::Sent);
    assert_eq!(fake.texts().len(), 1);
}

#[tokio::test]
async fn texts_from_one_number_are_paced_so_the_provider_never_refuses_them() {
    let fake = FakeSms::start(10).await;
    let (app, scope) = app_with_sms(&fake, 8).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(text(&app, scope, &format!("+1303555{:04}", 2000 + i), true).await);
    }
    app.deliver_all().await;
    assert_eq!(fake.refused_for_rate(), 0, "the provider never had to answer 429");
    assert_eq!(fake.texts().len(), 24);
    for id in ids {
        assert_eq!(app.delivery(id).await.status, DeliveryStatus::Sent);
    }
}

#[tokio::test]
async fn a_text_from_a_households_phone_lands_in_its_conversation_once() {
    use petbridge_domain::{
        chat::conversations,
        db::entities::{client, conversation},
    };
    use sea_orm::{ColumnTrait, QueryFilter};
    let fake = FakeSms::start(10).await;
    let (app, scope) = app_with_sms(&fake, 8).await;
    let practice = practices::get(&app.platform, scope).await.unwrap();
    let key = app.sync_key(&practice).await;
    let now = app.clock_now();
    let batch = json!({ "clients": [{ "pms_id": "T1", "updated_at": now.to_rfc3339(), "first_name": "Tess", "last_name": "Text", "phone": "303-555-0123" }] });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let household =
        client::Entity::find().filter(client::Column::PmsId.eq("T1")).one(&app.platform.db).await.unwrap().unwrap();

    assert_eq!(inbound(&app, "SM-chat-1", "Is Mochi ready for pickup?", None).await, 200);
    assert_eq!(inbound(&app, "SM-chat-1", "Is Mochi ready for pickup?", None).await, 200, "the provider repeats it");
    assert_eq!(inbound(&app, "SM-chat-2", "Thanks!", None).await, 200);
    let conversation = conversation::Entity::find()
        .filter(conversation::Column::ClientId.eq(household.id))
        .one(&app.platform.db)
        .await
        .unwrap()
        .expect("a conversation for the household");
    let messages = conversations::messages_after(&app.platform, conversation.id, 0, 10).await.unwrap();
    let seen: Vec<(i64, &str, &str, &str)> =
        messages.iter().map(|m| (m.seq, m.author.as_str(), m.channel.as_str(), m.body.as_str())).collect();
    assert_eq!(seen, vec![(1, "owner", "sms", "Is Mochi ready for pickup?"), (2, "owner", "sms", "Thanks!")]);
}
