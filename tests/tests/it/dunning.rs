//! Dunning (PLANS.md B6) through the real server and the fake Stripe API:
//! the owner told of each decline in their daytime, by email with a private
//! link (staff see a stand-in) that pays the payment, confirms it with the
//! bank or takes another card; the practice's policy after the last retry
//! (hold, late fee, keep); and the managers' morning digest.

use chrono::{Days, TimeZone, Utc};
use petbridge_domain::{
    db::entities::delivery::{DeliveryStatus, SEALED},
    kernel::permissions::SecurityLevel,
};
use petbridge_tests::{
    TestApp,
    fake_stripe::{FakeStripe, StripeAnswer},
    spawn_with_stripe,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    payments::{day, enrol_on, go_to, payment, plan, save_card, today},
    plans::{Household, household},
};

const ANN: &str = "ann@example.com";

/// A practice whose puppy household has Ann's email, at noon in Denver.
async fn practice_with_ann(stripe: &FakeStripe, code: &str) -> (TestApp, String, Household) {
    let app = spawn_with_stripe(stripe).await;
    go_to(&app, today(&app));
    let fixture = app.practice(code).await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    let admin = app.login(code, "admin").await;
    let home = household(&app, &fixture, &admin).await;
    crate::plan_renewals::give_ann_her_email(&app, &fixture).await;
    (app, admin, home)
}

/// The payment notices in Ann's mailbox, oldest first.
async fn notices(app: &TestApp) -> Vec<Value> {
    app.mailbox(ANN).await.into_iter().filter(|m| m["data"]["template"] == "payment_due").collect()
}

/// The token of a notice's pay link.
fn token(notice: &Value) -> String {
    let link = notice["data"]["link"].as_str().expect("a link");
    link.split("/pay/").nth(1).expect("a pay link").to_owned()
}

async fn open(app: &TestApp, token: &str) -> (u16, String) {
    let response = app.client.get(app.url(&format!("/pay/{token}"))).send().await.expect("pay page");
    (response.status().as_u16(), response.text().await.expect("html"))
}

async fn post(app: &TestApp, path: &str, body: Option<Value>) -> (u16, String) {
    let mut request = app.client.post(app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("pay link");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
async fn a_declined_charge_tells_the_owner_in_their_daytime_with_a_private_link_that_pays_it() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "maple-vets").await;
    let (_, card) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    let first = today(&app);
    assert_eq!(payment(&enrolled, 1)["status"], "failed");

    let told = notices(&app).await;
    assert_eq!(told.len(), 1, "the owner is told of the decline");
    assert_eq!(told[0]["subject"], "Bella's plan payment did not go through");
    let body = told[0]["body"].as_str().unwrap();
    assert!(body.contains("$88.99") && body.contains("insufficient funds"), "{body}");
    assert!(body.contains(&format!("try the card again on {}", first + Days::new(3))), "{body}");
    assert!(body.contains("/pay/"), "the owner's copy carries the link: {body}");
    // Staff see the outbox row with a stand-in where the link goes.
    let stored = app.deliveries_to(ANN).await;
    let row = stored.iter().find(|d| d.data["template"] == "payment_due").unwrap();
    assert!(row.body.contains(SEALED) && !row.body.contains("/pay/"), "{}", row.body);

    let link = token(&told[0]);
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("$88.99") && page.contains("Pay $88.99 now with the visa card ending 9995"), "{page}");
    let mut forged = link.clone();
    let last = if forged.ends_with('A') { 'B' } else { 'A' };
    forged.pop();
    forged.push(last);
    assert_eq!(open(&app, &forged).await.0, 404, "a forged link opens nothing");

    // The retry at 23:00 declines again: the notice waits for 08:00.
    let denver = chrono_tz::America::Denver;
    let late = denver.from_local_datetime(&(first + Days::new(3)).and_hms_opt(23, 0, 0).unwrap()).unwrap();
    app.clock.set(late.with_timezone(&Utc));
    assert_eq!(app.run_jobs().await.charges.declined, 1);
    assert_eq!(notices(&app).await.len(), 1, "not at night");
    let waiting = app.deliveries_to(ANN).await.into_iter().rfind(|d| d.data["template"] == "payment_due");
    let morning = denver.from_local_datetime(&(first + Days::new(4)).and_hms_opt(8, 0, 0).unwrap()).unwrap();
    assert_eq!(waiting.unwrap().next_attempt_at, morning.with_timezone(&Utc));
    app.clock.set(morning.with_timezone(&Utc));
    let told = notices(&app).await;
    assert_eq!(told.len(), 2, "in the morning");
    assert!(told[1]["body"].as_str().unwrap().contains(&format!("again on {}", first + Days::new(7))));

    // The owner pays from the link; it pays once and then says so.
    let admin = app.login("maple-vets", "admin").await;
    stripe.answer_next([StripeAnswer::Succeed]);
    let (status, paid) = post(&app, &format!("/pay/{link}"), None).await;
    assert_eq!(status, 200, "{paid}");
    assert!(paid.contains("Paid. Thank you!"), "{paid}");
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&now, 1)["status"], "paid");
    assert_eq!(now["status"], "active");
    let last = now["attempts"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["started_by"], "the owner, by the emailed link");
    let (_, page) = open(&app, &link).await;
    assert!(page.contains("This payment is paid") && !page.contains("Pay $88.99 now"), "{page}");
    let (status, again) = post(&app, &format!("/pay/{link}"), None).await;
    assert_eq!(status, 409, "{again}");
    assert!(again.contains("payment_not_chargeable"), "{again}");
    assert_eq!(stripe.charges().len(), 1);
    assert_eq!(notices(&app).await.len(), 2, "the owner who paid is not told again");
}

#[tokio::test]
async fn a_household_that_turned_email_off_gets_no_payment_email() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "maple-vets").await;
    let path = format!("/clients/{}/preferences", home.client);
    let (status, prefs) = app.staff_call(&admin, Method::PATCH, path, Some(json!({ "email": false }))).await;
    assert_eq!(status, 200, "{prefs}");
    let (_, card) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedStolenCard").await;
    enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    assert!(notices(&app).await.is_empty(), "preferences are respected");
    let row = app.deliveries_to(ANN).await.into_iter().find(|d| d.data["template"] == "payment_due").unwrap();
    app.deliver_all().await;
    let row = app.delivery(row.id).await;
    assert_eq!(row.status, DeliveryStatus::Skipped, "{row:?}");
}

#[tokio::test]
async fn a_charge_the_bank_wants_confirmed_is_confirmed_from_the_link_and_another_card_pays_a_declined_one() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "maple-vets").await;
    let (_, card) = save_card(&app, &stripe, &admin, &home.client, "pm_card_authenticationRequired").await;
    let enrolled = enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "past_due");
    let told = notices(&app).await;
    assert_eq!(told[0]["subject"], "Please confirm Bella's plan payment");
    assert!(told[0]["body"].as_str().unwrap().contains("Confirm it with your bank"));
    let link = token(&told[0]);
    let (status, page) = open(&app, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Confirm with your bank"), "{page}");
    let secret = page.split("data-secret=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_owned();
    // Asked back before the bank confirmed, it still waits.
    let (_, waiting) = post(&app, &format!("/pay/{link}/confirmed"), None).await;
    assert!(waiting.contains("confirm this payment"), "{waiting}");
    stripe.confirm_payment(&secret).await;
    let (status, said) = post(&app, &format!("/pay/{link}/confirmed"), None).await;
    assert_eq!(status, 200, "{said}");
    assert!(said.contains("Paid. Thank you!"), "{said}");
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&now, 1)["status"], "paid");
    assert_eq!(stripe.charges().len(), 1);

    // The next payment is declined for good; the link takes another card, which pays it.
    let second = payment(&now, 2).clone();
    go_to(&app, day(&second["due_on"]));
    stripe.answer_next([StripeAnswer::Decline("lost_card")]);
    app.run_jobs().await;
    let told = notices(&app).await;
    let lost = told.last().unwrap();
    assert!(lost["body"].as_str().unwrap().contains("lost or stolen"), "{lost}");
    let link = token(lost);
    let (status, setup) = post(&app, &format!("/pay/{link}/card/setup"), None).await;
    assert_eq!(status, 200, "{setup}");
    let setup: Value = serde_json::from_str(&setup).unwrap();
    stripe.confirm_setup(setup["client_secret"].as_str().unwrap(), "pm_card_mastercard").await;
    let body = json!({ "setup_intent": setup["setup_intent"] });
    let (status, saved) = post(&app, &format!("/pay/{link}/card"), Some(body)).await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("Paid. Thank you!") && saved.contains("4444"), "{saved}");
    let admin = app.login("maple-vets", "admin").await;
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!((payment(&now, 2)["status"].as_str(), now["card"]["last4"].as_str()), (Some("paid"), Some("4444")));
    assert_eq!(stripe.charges().len(), 2);
    assert!(stripe.shape_errors().is_empty(), "{:?}", stripe.shape_errors());
}

async fn set_policy(app: &TestApp, admin: &str, body: Value) -> (u16, Value) {
    app.staff_call(admin, Method::PATCH, "/practice/settings", Some(body)).await
}

fn actions(plan: &Value) -> Vec<String> {
    plan["history"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn after_the_last_retry_the_practice_adds_a_late_fee_once_and_managers_get_a_morning_digest() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "maple-vets").await;
    let (status, refused) =
        set_policy(&app, &admin, json!({ "final_failure": "late_fee", "late_fee_cents": 10 })).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("invalid_late_fee")), "{refused}");
    let (status, settings) =
        set_policy(&app, &admin, json!({ "final_failure": "late_fee", "late_fee_cents": 3_000 })).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        (settings["final_failure"].as_str(), settings["late_fee_cents"].as_i64()),
        (Some("late_fee"), Some(3_000))
    );

    let (_, card) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedStolenCard").await;
    let enrolled = enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "past_due", "a stolen card is not retried");
    let run = app.run_jobs().await;
    assert_eq!(run.final_failures, 1);
    let now = plan(&app, &admin, &enrolled["id"]).await;
    let fee = payment(&now, 13);
    assert_eq!((fee["purpose"].as_str(), fee["amount_cents"].as_i64()), (Some("late_fee"), Some(3_000)), "{now}");
    assert_eq!(day(&fee["due_on"]), today(&app));
    assert!(actions(&now).contains(&"payment.final_failure".to_owned()));

    // The digest went out with the first run of the day: managers only.
    assert_eq!(run.digests, 1);
    let digest = app.mailbox("admin@maple-vets.test").await;
    let digest = digest.iter().find(|m| m["data"]["template"] == "payment_digest").expect("a digest");
    let text = digest["body"].as_str().unwrap();
    assert!(text.contains("Ann Jones (Bella): payment 1 of $88.99, retries used up"), "{text}");
    assert!(text.contains("/dashboard/clients/"), "{text}");
    let front_desk = app.mailbox("frontdesk@maple-vets.test").await;
    assert!(!front_desk.iter().any(|m| m["data"]["template"] == "payment_digest"), "not to front-desk staff");

    // The fee is charged on the next run, declined too, and earns no fee of its own.
    app.clock.set(app.clock_now() + chrono::Duration::minutes(1));
    let run = app.run_jobs().await;
    assert_eq!((run.charges.declined, run.final_failures, run.digests), (1, 1, 0), "{run:?}");
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(now["payments"].as_array().unwrap().len(), 13, "no fee on a fee");
    assert_eq!(payment(&now, 13)["status"], "past_due");

    // The next morning's digest says what happened since.
    let denver = chrono_tz::America::Denver;
    let next = denver.from_local_datetime(&(today(&app) + Days::new(1)).and_hms_opt(7, 30, 0).unwrap()).unwrap();
    app.clock.set(next.with_timezone(&Utc));
    assert_eq!(app.run_jobs().await.digests, 1);
    assert_eq!(app.run_jobs().await.digests, 0, "once a day");
    let digests: Vec<Value> = app
        .mailbox("admin@maple-vets.test")
        .await
        .into_iter()
        .filter(|m| m["data"]["template"] == "payment_digest")
        .collect();
    let text = digests.last().unwrap()["body"].as_str().unwrap().to_owned();
    assert!(text.contains("payment 13 of $30.00, retries used up, not paid; policy applied: keep"), "{text}");
    assert!(!text.contains("payment 1 of"), "only what is new since the last digest: {text}");
}

#[tokio::test]
async fn after_the_last_retry_a_practice_that_holds_puts_the_plan_on_hold() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "oak-vets").await;
    let (status, _) = set_policy(&app, &admin, json!({ "final_failure": "hold" })).await;
    assert_eq!(status, 200);
    let (_, card) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    let first = today(&app);
    for offset in [3, 7] {
        go_to(&app, first + Days::new(offset));
        assert_eq!(app.run_jobs().await.final_failures, 0, "retries left on day {offset}");
    }
    go_to(&app, first + Days::new(14));
    let run = app.run_jobs().await;
    assert_eq!((run.charges.declined, run.final_failures), (1, 1));
    let admin = app.login("oak-vets", "admin").await;
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!((now["status"].as_str(), now["hold_reason"].as_str()), (Some("on_hold"), Some("financial")), "{now}");
    assert_eq!(app.run_jobs().await.final_failures, 0, "applied once");
    assert_eq!(notices(&app).await.len(), 4, "told of the first decline and each retry");
}

#[tokio::test]
async fn a_charge_unanswered_past_the_gateways_idempotency_window_is_never_sent_again_and_left_to_staff() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice_with_ann(&stripe, "maple-vets").await;
    let (_, card) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    stripe.answer_next([StripeAnswer::Unavailable]);
    let enrolled = enrol_on(&app, &admin, &home, &card["card"], json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "processing", "{enrolled}");
    // The reconciler's ask fails too; after it, the fake would charge.
    stripe.answer_next([StripeAnswer::Unavailable]);
    app.clock.set(app.clock_now() + chrono::Duration::minutes(5));
    assert_eq!(app.run_jobs().await.charges.pending, 1, "asked again with the same key");
    app.clock.set(app.clock_now() + chrono::Duration::hours(24));
    let asks = stripe.intents().len();
    let run = app.run_jobs().await;
    assert_eq!(run.charges.declined, 1, "{run:?}");
    assert_eq!(stripe.intents().len(), asks, "not sent again once the key may be forgotten");
    let admin = app.login("maple-vets", "admin").await;
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(
        (payment(&now, 1)["status"].as_str(), payment(&now, 1)["retry_on"].as_null()),
        (Some("past_due"), Some(()))
    );
    assert_eq!(now["attempts"][0]["decline_code"], "gateway_no_answer");
    assert!(notices(&app).await.is_empty(), "the owner is not told of a charge whose outcome is unknown");
    assert_eq!(run.final_failures, 0, "nor does the practice's policy apply");
}
