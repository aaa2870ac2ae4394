//! Card payments through the fake Stripe API (PLANS.md B): cards saved
//! through the gateway's own fields, the initial charge at enrolment, the
//! schedule charged exactly once (also when the gateway's answer is lost
//! after it charged), soft declines retried on days 3, 7 and 14, hard
//! declines not retried, a new card retrying what is past due, and
//! another practice's cards and payments out of reach.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{
    TestApp,
    fake_stripe::{FakeStripe, StripeAnswer},
    spawn_with_stripe,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::plans::{Household, household};

/// The practice's day now (the fixture practice is in Denver), which is not
/// the UTC day for seven hours of each day.
pub(crate) fn today(app: &TestApp) -> NaiveDate {
    app.clock_now().with_timezone(&chrono_tz::America::Denver).date_naive()
}

/// Moves the clock to noon in Denver on `day`.
pub(crate) fn go_to(app: &TestApp, day: NaiveDate) {
    let noon = chrono_tz::America::Denver.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap()).unwrap();
    app.clock.set(noon.with_timezone(&Utc));
}

/// Saves a card for `client` as the dashboard does: a setup from the
/// server, confirmed in the gateway's fields with a Stripe test card, then
/// handed back. Answers the setup's id and the saved card.
pub(crate) async fn save_card(
    app: &TestApp,
    stripe: &FakeStripe,
    token: &str,
    client: &str,
    test_card: &str,
) -> (String, Value) {
    let (status, setup) = app.staff_post(token, &format!("/clients/{client}/payment-cards/setup"), None).await;
    assert_eq!(status, 200, "{setup}");
    assert_eq!(setup["publishable_key"], stripe.publishable_key.as_str());
    stripe.confirm_setup(setup["client_secret"].as_str().unwrap(), test_card).await;
    let setup_intent = setup["setup_intent"].as_str().unwrap().to_owned();
    let body = json!({ "setup_intent": setup_intent });
    let (status, saved) = app.staff_post(token, &format!("/clients/{client}/payment-cards"), Some(body)).await;
    assert_eq!(status, 201, "{saved}");
    (setup_intent, saved)
}

/// A practice with the puppy household, its administrator and the fake gateway.
pub(crate) async fn practice(stripe: &FakeStripe) -> (TestApp, String, Household) {
    let app = spawn_with_stripe(stripe).await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    (app, admin, home)
}

/// Enrols the puppy on the card; answers the plan.
pub(crate) async fn enrol_on(app: &TestApp, token: &str, home: &Household, card: &Value, extra: Value) -> Value {
    let mut body = json!({ "pet_id": home.puppy, "template_id": home.template, "payment_profile_id": card["id"] });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let (status, plan) = app.staff_post(token, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{plan}");
    plan
}

pub(crate) async fn plan(app: &TestApp, token: &str, id: &Value) -> Value {
    let (status, plan) = app.get_json(&format!("/api/dashboard/v1/plans/{}", id.as_str().unwrap()), token).await;
    assert_eq!(status, 200, "{plan}");
    plan
}

pub(crate) fn payment(plan: &Value, number: i64) -> &Value {
    plan["payments"].as_array().unwrap().iter().find(|p| p["number"] == number).unwrap()
}

pub(crate) fn day(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_saved_card_pays_the_initial_charge_at_enrolment_and_each_due_payment_once() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let card = &saved["card"];
    assert_eq!((card["brand"].as_str(), card["last4"].as_str()), (Some("visa"), Some("4242")));
    let (_, listed) = app.get_json(&format!("/api/dashboard/v1/clients/{}/payment-cards", home.client), &admin).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // Staff enrol on the card without a manager: no gated option is chosen.
    let frontdesk = app.login("maple-vets", "frontdesk").await;
    let enrolled = enrol_on(&app, &frontdesk, &home, card, json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "paid", "{enrolled}");
    assert_eq!(enrolled["card"]["last4"], "4242");
    assert_eq!(enrolled["status"], "active");
    let charges = stripe.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount, 4_900 + 3_999, "the fee and the first month");
    let attempt = &enrolled["attempts"][0];
    assert_eq!((attempt["status"].as_str(), attempt["started_by"].as_str()), (Some("succeeded"), Some("frontdesk")));
    assert_eq!(charges[0].idempotency_key, attempt["id"].as_str().unwrap(), "the attempt's id is the key");
    assert_eq!(charges[0].metadata["payment_id"], payment(&enrolled, 1)["id"].as_str().unwrap());
    // The agreement's charge authorisation names the card.
    let pdf_path = format!(
        "/api/dashboard/v1/plans/{}/agreements/{}",
        enrolled["id"].as_str().unwrap(),
        enrolled["agreements"][0]["id"].as_str().unwrap()
    );
    let (status, _, pdf) = crate::plan_agreements::fetch(&app, &pdf_path, &frontdesk).await;
    assert_eq!(status, 200);
    let words = crate::plan_agreements::words(&pdf).expect("pdftotext (poppler-utils) reads the agreement");
    assert!(words.contains("to the card ending in 4242"), "{words}");

    // The second payment is charged on its day, once however often the job runs.
    assert_eq!(app.run_jobs().await.charges.paid, 0, "nothing is due yet");
    go_to(&app, day(&payment(&enrolled, 2)["due_on"]));
    let admin = app.login("maple-vets", "admin").await;
    assert_eq!(app.run_jobs().await.charges.paid, 1);
    assert_eq!(app.run_jobs().await.charges.paid, 0);
    let after = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&after, 2)["status"], "paid");
    assert_eq!(payment(&after, 3)["status"], "scheduled");
    assert_eq!(stripe.charges().len(), 2);
    assert_eq!(stripe.charges()[1].amount, 3_999);
    let history: Vec<&str> = after["history"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(history.iter().filter(|a| **a == "payment.charge").count(), 2, "{history:?}");
    assert!(stripe.shape_errors().is_empty(), "{:?}", stripe.shape_errors());
}

#[tokio::test]
async fn a_charge_whose_answer_is_lost_after_charging_is_settled_once_by_the_reconciler() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    // The initial charge at the desk: only the schedule goes to the gateway.
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({ "skip_initial_charge": true })).await;
    assert_eq!(payment(&enrolled, 1)["status"], "paid_external");
    assert!(stripe.intents().is_empty());

    go_to(&app, day(&payment(&enrolled, 2)["due_on"]));
    stripe.answer_next([StripeAnswer::TimeoutAfterCharge(std::time::Duration::from_secs(3))]);
    let run = app.run_jobs().await.charges;
    assert_eq!((run.paid, run.pending), (0, 1), "the answer was lost: {run:?}");
    assert_eq!(stripe.charges().len(), 1, "the card was charged");
    let admin = app.login("maple-vets", "admin").await;
    let waiting = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&waiting, 2)["status"], "processing");

    // Run again at once: the attempt is too young to reconcile, and a
    // payment being charged is never claimed twice.
    assert_eq!(app.run_jobs().await.charges, Default::default());
    assert_eq!(stripe.intents().len(), 1);

    app.clock.advance(chrono::Duration::minutes(5));
    let run = app.run_jobs().await.charges;
    assert_eq!(run.paid, 1, "{run:?}");
    let admin = app.login("maple-vets", "admin").await;
    let settled = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&settled, 2)["status"], "paid");
    assert_eq!(stripe.charges().len(), 1, "one charge, the first call's");
    let attempts = settled["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "one attempt, asked twice with one key");
    assert_eq!(attempts[0]["status"], "succeeded");
    assert_eq!(app.run_jobs().await.charges, Default::default(), "nothing is left to settle");
}

#[tokio::test]
async fn soft_declines_are_retried_on_days_three_seven_and_fourteen_then_a_new_card_pays() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let first = today(&app);
    let initial = payment(&enrolled, 1);
    assert_eq!(initial["status"], "failed", "{enrolled}");
    assert_eq!(initial["failures"], 1);
    assert_eq!(day(&initial["retry_on"]), first + Days::new(3));
    assert_eq!(enrolled["status"], "past_due");
    assert_eq!(enrolled["attempts"][0]["decline_code"], "insufficient_funds");

    assert_eq!(app.run_jobs().await.charges, Default::default(), "not before its retry day");
    for (offset, next) in [(3, Some(7)), (7, Some(14)), (14, None)] {
        go_to(&app, first + Days::new(offset));
        assert_eq!(app.run_jobs().await.charges.declined, 1, "retried on day {offset}");
        let admin = app.login("maple-vets", "admin").await;
        let now = plan(&app, &admin, &enrolled["id"]).await;
        let initial = payment(&now, 1);
        match next {
            Some(next) => {
                assert_eq!(initial["status"], "failed");
                assert_eq!(day(&initial["retry_on"]), first + Days::new(next), "day {offset}");
            }
            None => {
                assert_eq!(initial["status"], "past_due", "three retries, then past due");
                assert!(initial["retry_on"].is_null());
            }
        }
    }
    go_to(&app, first + Days::new(20));
    app.run_jobs().await;
    assert_eq!(stripe.intents().len(), 4, "the first try and three retries");

    // A new card takes over the plan and pays what is past due at once.
    let admin = app.login("maple-vets", "admin").await;
    let (_, replaced) = save_card(&app, &stripe, &admin, &home.client, "pm_card_mastercard").await;
    assert_eq!(replaced["plans"][0], enrolled["id"]);
    assert_eq!(replaced["retried"][0]["result"], "paid", "{replaced}");
    let paid = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&paid, 1)["status"], "paid");
    assert_eq!(paid["status"], "active");
    assert_eq!(paid["card"]["last4"], "4444");
    assert_eq!(stripe.charges().len(), 1);
}

#[tokio::test]
async fn hard_declines_are_not_retried_and_authentication_waits_for_the_owner() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, stolen) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedStolenCard").await;
    let enrolled = enrol_on(&app, &admin, &home, &stolen["card"], json!({})).await;
    let initial = payment(&enrolled, 1);
    assert_eq!((initial["status"].as_str(), initial["retry_on"].as_null()), (Some("past_due"), Some(())));
    assert_eq!(enrolled["attempts"][0]["decline_code"], "stolen_card");
    go_to(&app, today(&app) + Days::new(14));
    app.run_jobs().await;
    assert_eq!(stripe.intents().len(), 1, "a stolen card is never tried again");

    // An administrator charges it again by hand: the bank now wants the owner.
    let admin = app.login("maple-vets", "admin").await;
    stripe.answer_next([StripeAnswer::RequireAuthentication]);
    let path = format!("/plan-payments/{}/charge", initial["id"].as_str().unwrap());
    let (status, charged) = app.staff_post(&admin, &path, None).await;
    assert_eq!(status, 200, "{charged}");
    assert_eq!(charged["outcome"]["result"], "authentication_required");
    let attempts = charged["plan"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.last().unwrap()["status"], "requires_action");
    assert_eq!(payment(&charged["plan"], 1)["status"], "past_due");

    // A paid payment is not charged again.
    stripe.answer_next([StripeAnswer::Succeed]);
    let (status, paid) = app.staff_post(&admin, &path, None).await;
    assert_eq!((status, paid["outcome"]["result"].as_str()), (200, Some("paid")), "{paid}");
    let (status, refused) = app.staff_post(&admin, &path, None).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("payment_not_chargeable")));
    assert_eq!(stripe.charges().len(), 1);
}

#[tokio::test]
async fn another_practices_cards_plans_and_payments_answer_404() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (setup_intent, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({ "skip_initial_charge": true })).await;
    let card = saved["card"]["id"].as_str().unwrap();
    let payment_id = payment(&enrolled, 2)["id"].as_str().unwrap().to_owned();
    let plan_id = enrolled["id"].as_str().unwrap();

    let fixture = app.practice("birch-vets").await;
    let other = app.login("birch-vets", "admin").await;
    let client = &home.client;
    for (method, path, body) in [
        (Method::POST, format!("/clients/{client}/payment-cards/setup"), None),
        (Method::POST, format!("/clients/{client}/payment-cards"), Some(json!({ "setup_intent": setup_intent }))),
        (Method::GET, format!("/clients/{client}/payment-cards"), None),
        (Method::PUT, format!("/plans/{plan_id}/card"), Some(json!({ "payment_profile_id": card }))),
        (Method::POST, format!("/plan-payments/{payment_id}/charge"), None),
        (Method::DELETE, format!("/payment-cards/{card}"), None),
    ] {
        let (status, answer) = app.staff_call(&other, method.clone(), &path, body).await;
        assert_eq!((status, answer["code"].as_str()), (404, Some("not_found")), "{method} {path}");
    }
    // Nor can this practice save a setup started for another client.
    let theirs = household(&app, &fixture, &other).await;
    let body = json!({ "setup_intent": setup_intent });
    let (status, _) = app.staff_post(&other, &format!("/clients/{}/payment-cards", theirs.client), Some(body)).await;
    assert_eq!(status, 404);
    assert!(stripe.intents().is_empty(), "nothing was charged");
}

#[tokio::test]
async fn a_deleted_card_is_forgotten_by_the_gateway_and_no_longer_charged() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({ "skip_initial_charge": true })).await;
    let card = saved["card"]["id"].as_str().unwrap();
    let (status, _) = app.staff_call(&admin, Method::DELETE, &format!("/payment-cards/{card}"), None).await;
    assert_eq!(status, 204);
    let after = plan(&app, &admin, &enrolled["id"]).await;
    assert!(after["card"].is_null(), "{after}");
    go_to(&app, day(&payment(&enrolled, 2)["due_on"]));
    assert_eq!(app.run_jobs().await.charges, Default::default());
    assert!(stripe.intents().is_empty());
    let admin = app.login("maple-vets", "admin").await;
    let (_, listed) = app.get_json(&format!("/api/dashboard/v1/clients/{}/payment-cards", home.client), &admin).await;
    assert!(listed.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_request_carrying_a_card_number_is_refused_before_anything_is_written() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let note = format!("/clients/{}/personal-note", home.client);
    for (card, written) in
        [("4242 4242 4242 4242", "spaced"), ("4000-0566-5566-5556", "dashed"), ("378282246310005", "amex")]
    {
        let body = json!({ "note": format!("Pays with {card}") });
        let (status, refused) = app.staff_call(&admin, Method::PUT, &note, Some(body)).await;
        assert_eq!((status, refused["code"].as_str()), (422, Some("card_number_refused")), "{written}");
    }
    let (status, refused) = app.staff_call(&admin, Method::GET, "/clients?search=4242424242424242", None).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("card_number_refused")), "in the query");
    let (_, client) = app.get_json(&format!("/api/dashboard/v1/clients/{}", home.client), &admin).await;
    assert!(!client.to_string().contains("Pays with"), "nothing was saved: {client}");
    // Numbers that are not cards pass: a phone number, a failed Luhn check.
    let body = json!({ "note": "Call +13035550100; ref 4242424242424241" });
    let (status, saved) = app.staff_call(&admin, Method::PUT, &note, Some(body)).await;
    assert!(status < 300, "{status} {saved}");
}

/// Saves a card with localstripe as its Stripe.js stand-in does: the setup
/// confirmed with a test card and the publishable key in the form.
async fn save_card_with_localstripe(app: &TestApp, base: &str, token: &str, client: &str, test_card: &str) -> Value {
    let (status, setup) = app.staff_post(token, &format!("/clients/{client}/payment-cards/setup"), None).await;
    assert_eq!(status, 200, "{setup}");
    let setup_intent = setup["setup_intent"].as_str().unwrap();
    let confirmed = petbridge_tests::client()
        .post(format!("{base}/v1/setup_intents/{setup_intent}/confirm"))
        .form(&[
            ("payment_method", test_card),
            ("client_secret", setup["client_secret"].as_str().unwrap()),
            ("key", setup["publishable_key"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200, "{}", confirmed.text().await.unwrap());
    let body = json!({ "setup_intent": setup_intent });
    let (status, saved) = app.staff_post(token, &format!("/clients/{client}/payment-cards"), Some(body)).await;
    assert_eq!(status, 201, "{saved}");
    saved
}

/// End to end against localstripe: a card saved off-session through its
/// setup flow is charged at enrolment, and `pm_card_chargeCustomerFail`
/// saves but declines. (localstripe ignores idempotency keys, which is why
/// the exactly-once tests use the fake above.)
#[tokio::test]
async fn localstripe_saves_a_card_off_session_charges_it_declines_a_failing_one_and_refunds_part() {
    let Some(base) = petbridge_tests::services::require(
        "localstripe",
        petbridge_tests::services::localstripe_url(),
        "set TEST_LOCALSTRIPE_URL; .ci/run starts it on http://127.0.0.1:8420",
    ) else {
        return;
    };
    petbridge_tests::init();
    let database = std::sync::Arc::new(petbridge_tests::TestDatabase::create().await);
    let mut settings = petbridge_tests::test_settings(&database).await;
    settings.payments.provider = "stripe".into();
    settings.payments.base_url = base.clone();
    settings.payments.secret_key = Some(secrecy::SecretString::from("sk_test_petbridge".to_owned()));
    settings.payments.publishable_key = "pk_test_petbridge".into();
    settings.payments.script_url = format!("{base}/js.stripe.com/v3/");
    let app = petbridge_tests::spawn_with(settings, database).await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;

    let saved = save_card_with_localstripe(&app, &base, &admin, &home.client, "pm_card_visa").await;
    assert_eq!((saved["card"]["brand"].as_str(), saved["card"]["last4"].as_str()), (Some("visa"), Some("4242")));
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "paid", "{enrolled}");
    assert_eq!(enrolled["attempts"][0]["status"], "succeeded");

    // The failing card saves (Stripe checks it only when charged), then declines.
    let failing = save_card_with_localstripe(&app, &base, &admin, &home.client, "pm_card_chargeCustomerFail").await;
    let second = payment(&enrolled, 2)["id"].as_str().unwrap().to_owned();
    let path = format!("/plans/{}/card", enrolled["id"].as_str().unwrap());
    let body = json!({ "payment_profile_id": failing["card"]["id"] });
    assert_eq!(app.staff_call(&admin, Method::PUT, &path, Some(body)).await.0, 200);
    let (status, charged) = app.staff_post(&admin, &format!("/plan-payments/{second}/charge"), None).await;
    assert_eq!(status, 200, "{charged}");
    assert_eq!(charged["outcome"]["result"], "declined", "{charged}");
    assert_eq!(charged["outcome"]["reason"], "card_declined");
    assert_eq!(payment(&charged["plan"], 2)["status"], "failed");

    // Cancelled, the first instalment (paid beyond what is owed) goes back to the card that paid it.
    let body = json!({ "reason": "moving away", "refund": "card" });
    let path = format!("/plans/{}/cancel", enrolled["id"].as_str().unwrap());
    let (status, cancelled) = app.staff_post(&admin, &path, Some(body)).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["refunds"][0]["status"], "succeeded", "{cancelled}");
    let first = payment(&cancelled, 1);
    assert_eq!((first["status"].as_str(), first["refunded_cents"].as_i64()), (Some("partially_refunded"), Some(3_999)));
}

/// Posts a gateway event to `/hooks/payments`, signed as `signature` says.
async fn deliver(app: &TestApp, (body, signature): (String, Option<String>)) -> (u16, Value) {
    let mut request = app.client.post(app.url("/hooks/payments")).header("content-type", "application/json").body(body);
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The PaymentIntent of a plan's first attempt, as the gateway's events carry it.
fn intent_object(stripe: &FakeStripe, plan: &Value, status: &str) -> Value {
    let attempt = plan["attempts"][0]["id"].as_str().unwrap();
    let intent = stripe.intent_for(attempt).expect("the fake made the intent");
    json!({
        "id": intent.id, "object": "payment_intent", "status": status, "amount": intent.amount,
        "metadata": intent.metadata,
        "last_payment_error": { "code": "card_declined", "decline_code": "insufficient_funds", "message": "Declined." },
    })
}

fn charge_entries(plan: &Value) -> usize {
    plan["history"].as_array().unwrap().iter().filter(|e| e["action"] == "payment.charge").count()
}

#[tokio::test]
async fn a_signed_webhook_settles_a_charge_the_owner_confirmed_and_forged_stale_or_replayed_ones_change_nothing() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_authenticationRequired").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    assert_eq!(enrolled["attempts"][0]["status"], "requires_action", "{enrolled}");
    assert_eq!(payment(&enrolled, 1)["status"], "past_due");
    let succeeded = intent_object(&stripe, &enrolled, "succeeded");
    let now = app.clock_now();
    let event = |secret: &str, at, id: &str, kind: &str, object: &Value| {
        let (body, signature) = FakeStripe::event(secret, at, id, kind, object.clone());
        (body, Some(signature))
    };

    // Forged, stale or unsigned: refused, and nothing moves.
    let refusals = [
        event("whsec_someone_else", now, "evt_1", "payment_intent.succeeded", &succeeded),
        event(
            &stripe.webhook_secret,
            now - chrono::Duration::minutes(6),
            "evt_1",
            "payment_intent.succeeded",
            &succeeded,
        ),
        (event(&stripe.webhook_secret, now, "evt_1", "payment_intent.succeeded", &succeeded).0, None),
    ];
    for refused in refusals {
        let (status, problem) = deliver(&app, refused).await;
        assert_eq!((status, problem["code"].as_str()), (401, Some("unsigned_webhook")), "{problem}");
    }
    // A body changed after signing is forged too.
    let (_, signature) = event(&stripe.webhook_secret, now, "evt_1", "payment_intent.succeeded", &succeeded);
    let tampered = json!({ "id": "evt_1", "type": "payment_intent.succeeded", "data": { "object": succeeded } });
    assert_eq!(deliver(&app, (tampered.to_string(), signature)).await.0, 401);
    assert_eq!(payment(&plan(&app, &admin, &enrolled["id"]).await, 1)["status"], "past_due");

    // The owner confirmed with their bank: the gateway says so, once.
    let confirmed = event(&stripe.webhook_secret, now, "evt_1", "payment_intent.succeeded", &succeeded);
    assert_eq!(deliver(&app, confirmed.clone()).await.0, 200);
    let paid = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&paid, 1)["status"], "paid", "{paid}");
    assert_eq!(paid["status"], "active");
    assert_eq!(paid["attempts"][0]["status"], "succeeded");
    let entries = charge_entries(&paid);
    assert_eq!(deliver(&app, confirmed).await.0, 200, "a replay is answered");
    assert_eq!(charge_entries(&plan(&app, &admin, &enrolled["id"]).await), entries, "and changes nothing");

    // A failure reported late (a new event about the same intent) does not undo it.
    let failed = intent_object(&stripe, &enrolled, "requires_payment_method");
    let late = event(&stripe.webhook_secret, now, "evt_0", "payment_intent.payment_failed", &failed);
    assert_eq!(deliver(&app, late).await.0, 200);
    let after = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!((payment(&after, 1)["status"].as_str(), after["status"].as_str()), (Some("paid"), Some("active")));
    assert_eq!(charge_entries(&after), entries);
}

#[tokio::test]
async fn a_success_reported_after_a_decline_still_ends_paid() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    assert_eq!(payment(&enrolled, 1)["status"], "failed");
    let now = app.clock_now();
    let object = intent_object(&stripe, &enrolled, "succeeded");
    let (body, signature) =
        FakeStripe::event(&stripe.webhook_secret, now, "evt_late", "payment_intent.succeeded", object);
    assert_eq!(deliver(&app, (body, Some(signature))).await.0, 200);
    let paid = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(payment(&paid, 1)["status"], "paid", "{paid}");
    assert!(payment(&paid, 1)["retry_on"].is_null(), "no retry is left to take");
    assert_eq!(paid["status"], "active");
    go_to(&app, today(&app) + Days::new(3));
    app.run_jobs().await;
    assert_eq!(stripe.intents().len(), 1, "the retry day passes without a charge");
}

#[tokio::test]
async fn an_owner_sees_the_payments_pays_a_declined_one_and_replaces_the_card_in_the_app() {
    let stripe = FakeStripe::start().await;
    let app = spawn_with_stripe(&stripe).await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    crate::plan_renewals::give_ann_her_email(&app, &fixture).await;
    let (_, saved) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let owner = app.verified_owner("maple-vets", "ann@example.com").await;

    let (status, plans) = app.app_call(Method::GET, "/plans", Some(&owner), None).await;
    assert_eq!(status, 200, "{plans}");
    let mine = &plans[0];
    assert_eq!(mine["card"]["last4"], "9995");
    assert_eq!(mine["payments"].as_array().unwrap().len(), 12);
    let first = &mine["payments"][0];
    assert_eq!((first["status"].as_str(), first["amount_cents"].as_i64()), (Some("failed"), Some(8_899)));
    let pay = format!("/plan-payments/{}/pay", first["id"].as_str().unwrap());

    // Paying on the same card is declined again; a scheduled payment is not the owner's to pay early.
    let (status, declined) = app.app_call(Method::POST, &pay, Some(&owner), None).await;
    assert_eq!((status, declined["result"].as_str()), (200, Some("declined")), "{declined}");
    let later = format!("/plan-payments/{}/pay", mine["payments"][1]["id"].as_str().unwrap());
    let (status, refused) = app.app_call(Method::POST, &later, Some(&owner), None).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("payment_not_chargeable")));

    // A new card, through the gateway's fields, pays it.
    let (status, setup) = app.app_call(Method::POST, "/payment-card/setup", Some(&owner), None).await;
    assert_eq!(status, 200, "{setup}");
    stripe.confirm_setup(setup["client_secret"].as_str().unwrap(), "pm_card_visa").await;
    let body = json!({ "setup_intent": setup["setup_intent"] });
    let (status, replaced) = app.app_call(Method::POST, "/payment-card", Some(&owner), Some(body)).await;
    assert_eq!(status, 201, "{replaced}");
    assert_eq!(replaced["retried"][0]["result"], "paid");
    let (_, plans) = app.app_call(Method::GET, "/plans", Some(&owner), None).await;
    assert_eq!(plans[0]["card"]["last4"], "4242");
    assert_eq!(plans[0]["payments"][0]["status"], "paid");
    let (status, _) = app.app_call(Method::POST, &pay, Some(&owner), None).await;
    assert_eq!(status, 409, "paid once");
    let staff_view = plan(&app, &admin, &enrolled["id"]).await;
    let starters: Vec<&str> =
        staff_view["attempts"].as_array().unwrap().iter().filter_map(|a| a["started_by"].as_str()).collect();
    assert_eq!(starters, ["admin", "the owner, in the app", "the owner, in the app"], "{staff_view}");

    // Another household's owner reaches none of it.
    let other = app.verified_owner("maple-vets", "someone@example.com").await;
    let (status, answer) = app.app_call(Method::POST, &pay, Some(&other), None).await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(stripe.charges().len(), 1);
}

#[tokio::test]
async fn a_manager_marks_a_payment_paid_at_the_desk_and_undoes_it_and_auto_charge_off_stops_the_schedule() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) =
        save_card(&app, &stripe, &admin, &home.client, "pm_card_visa_chargeDeclinedInsufficientFunds").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    assert_eq!(enrolled["status"], "past_due");
    let first = payment(&enrolled, 1)["id"].as_str().unwrap().to_owned();
    let desk = format!("/plan-payments/{first}/paid-externally");

    // Staff may not; the front desk's manager may.
    let frontdesk = app.login("maple-vets", "frontdesk").await;
    let (status, _) = app.staff_post(&frontdesk, &desk, None).await;
    assert_eq!(status, 403);
    let (status, paid) = app.staff_post(&admin, &desk, None).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(
        (payment(&paid, 1)["status"].as_str(), paid["status"].as_str()),
        (Some("paid_external"), Some("active"))
    );
    let (status, again) = app.staff_post(&admin, &desk, None).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("payment_not_chargeable")));
    let (status, undone) = app.staff_call(&admin, Method::DELETE, &desk, None).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(payment(&undone, 1)["status"], "scheduled");
    let actions: Vec<&str> =
        undone["history"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(
        actions.contains(&"payment.paid_externally") && actions.contains(&"payment.paid_externally_undone"),
        "{actions:?}"
    );

    // Auto charge off: the schedule leaves the plan alone; back on, it charges.
    let path = format!("/plans/{}/auto-charge", enrolled["id"].as_str().unwrap());
    let (status, _) = app.staff_call(&frontdesk, Method::PUT, &path, Some(json!({ "on": false }))).await;
    assert_eq!(status, 403, "turning it off needs an administrator");
    let (status, off) = app.staff_call(&admin, Method::PUT, &path, Some(json!({ "on": false }))).await;
    assert_eq!((status, off["auto_charge"].as_bool()), (200, Some(false)), "{off}");
    let before = stripe.intents().len();
    assert_eq!(app.run_jobs().await.charges, Default::default());
    assert_eq!(stripe.intents().len(), before);
    let (_, on) = app.staff_call(&admin, Method::PUT, &path, Some(json!({ "on": true }))).await;
    assert_eq!(on["auto_charge"], true);
    assert_eq!(app.run_jobs().await.charges.declined, 1, "the owed payment is tried again");
}

fn actions(plan: &Value) -> Vec<String> {
    plan["history"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect()
}

#[tokio::test]
async fn an_administrator_adds_a_supplemental_payment_in_place_of_one_owed_and_charges_all_remaining() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let id = enrolled["id"].as_str().unwrap();
    let path = format!("/plans/{id}/supplemental-payments");
    let third = payment(&enrolled, 3)["id"].clone();

    // Bad input, a payment not owed, or too low a level: refused, nothing written.
    let frontdesk = app.login("maple-vets", "frontdesk").await;
    let nsf =
        json!({ "purpose": "nsf", "amount_cents": 2_500, "replaces_payment_id": third, "note": "cheque returned" });
    assert_eq!(app.staff_post(&frontdesk, &path, Some(nsf.clone())).await.0, 403);
    for (body, code) in [
        (json!({ "purpose": "other", "amount_cents": 2_500 }), "invalid_supplemental"),
        (json!({ "purpose": "card_fee", "amount_cents": 0 }), "invalid_supplemental"),
        (json!({ "purpose": "card_fee", "amount_cents": 300, "due_on": "2001-01-01" }), "invalid_supplemental"),
        (
            json!({ "purpose": "card_fee", "amount_cents": 300, "replaces_payment_id": payment(&enrolled, 1)["id"] }),
            "payment_not_owed",
        ),
    ] {
        let (status, problem) = app.staff_post(&admin, &path, Some(body.clone())).await;
        assert_eq!(problem["code"], code, "{body}: {status} {problem}");
    }
    assert_eq!(plan(&app, &admin, &enrolled["id"]).await["payments"], enrolled["payments"], "nothing was written");

    let (status, added) = app.staff_post(&admin, &path, Some(nsf)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(payment(&added, 3)["status"], "cancelled", "the payment it replaces is cancelled");
    let extra = payment(&added, 13);
    assert_eq!(
        (extra["kind"].as_str(), extra["purpose"].as_str(), extra["amount_cents"].as_i64(), extra["status"].as_str()),
        (Some("supplemental"), Some("nsf"), Some(2_500), Some("scheduled"))
    );
    assert_eq!((extra["replaces_id"].clone(), extra["note"].as_str()), (third.clone(), Some("cheque returned")));
    assert_eq!(day(&extra["due_on"]), today(&app), "due today when no day is given");
    let entry = added["history"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (entry["action"].as_str(), entry["detail"]["replaces"].as_i64()),
        (Some("payment.supplemental"), Some(3))
    );

    // Charge remaining: oldest first, stopping at the first the card refuses.
    stripe.answer_next([StripeAnswer::Succeed, StripeAnswer::Succeed, StripeAnswer::Decline("insufficient_funds")]);
    let (status, charged) = app.staff_post(&admin, &format!("/plans/{id}/charge-remaining"), None).await;
    assert_eq!(status, 200, "{charged}");
    let results: Vec<&str> =
        charged["outcomes"].as_array().unwrap().iter().map(|o| o["outcome"]["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["paid", "paid", "declined"]);
    let after = &charged["plan"];
    assert_eq!(payment(after, 13)["status"], "paid", "the supplemental payment, due today, went first");
    assert_eq!(payment(after, 2)["status"], "paid");
    assert_eq!(payment(after, 4)["status"], "failed");
    assert_eq!(payment(after, 5)["status"], "scheduled", "not tried after the decline");
    assert_eq!(stripe.charges().len(), 3, "the initial charge and two more");
    assert_eq!(stripe.intents().len(), 4);
}

#[tokio::test]
async fn a_cancellation_refunds_the_overpaid_part_to_the_card_once_even_when_the_answer_is_lost() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let id = enrolled["id"].as_str().unwrap();
    let intent = stripe.intent_for(enrolled["attempts"][0]["id"].as_str().unwrap()).unwrap().id;

    // The first instalment was paid beyond what is owed; the gateway refunds it but its answer is lost.
    stripe.answer_next([StripeAnswer::TimeoutAfterCharge(std::time::Duration::from_secs(3))]);
    let body = json!({ "reason": "moving away", "refund": "card" });
    let (status, cancelled) = app.staff_post(&admin, &format!("/plans/{id}/cancel"), Some(body)).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(stripe.refunds(), [(intent.clone(), 3_999)]);
    assert_eq!(cancelled["refunds"][0]["status"], "processing", "{cancelled}");
    assert_eq!(payment(&cancelled, 1)["status"], "paid", "not refunded until the gateway says so");

    app.clock.advance(chrono::Duration::minutes(5));
    app.run_jobs().await;
    let admin = app.login("maple-vets", "admin").await;
    let refunded = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(refunded["refunds"][0]["status"], "succeeded", "{refunded}");
    let first = payment(&refunded, 1);
    assert_eq!((first["status"].as_str(), first["refunded_cents"].as_i64()), (Some("partially_refunded"), Some(3_999)));
    assert_eq!(stripe.refunds().len(), 1, "asked again with the same key: one refund");
    assert!(actions(&refunded).contains(&"payment.refund".to_owned()));
    assert_eq!(app.run_jobs().await.charges, Default::default());
    assert!(stripe.shape_errors().is_empty(), "{:?}", stripe.shape_errors());
}

#[tokio::test]
async fn a_refund_to_the_card_is_refused_for_what_was_paid_at_the_desk() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({ "skip_initial_charge": true })).await;
    let id = enrolled["id"].as_str().unwrap();
    let body = json!({ "reason": "moving away", "refund": "card" });
    let (status, refused) = app.staff_post(&admin, &format!("/plans/{id}/cancel"), Some(body)).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("refund_beyond_card_charges")), "{refused}");
    let untouched = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(
        (untouched["status"].as_str(), untouched["refunds"].as_array().map(Vec::len)),
        (Some("active"), Some(0))
    );
    assert!(stripe.refunds().is_empty());
}

#[tokio::test]
async fn disputes_move_a_paid_payment_to_disputed_and_back_when_won_in_any_order() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let intent = stripe.intent_for(enrolled["attempts"][0]["id"].as_str().unwrap()).unwrap().id;
    let now = app.clock_now();
    let dispute = |event: &str, kind: &str, id: &str, status: &str| {
        let object = json!({ "id": id, "object": "dispute", "payment_intent": intent, "amount": 8_899, "reason": "fraudulent", "status": status });
        let (body, signature) = FakeStripe::event(&stripe.webhook_secret, now, event, kind, object);
        (body, Some(signature))
    };
    let status_now = |plan: Value| payment(&plan, 1)["status"].as_str().unwrap().to_owned();

    assert_eq!(deliver(&app, dispute("evt_d1", "charge.dispute.created", "dp_1", "needs_response")).await.0, 200);
    assert_eq!(status_now(plan(&app, &admin, &enrolled["id"]).await), "disputed");
    assert_eq!(deliver(&app, dispute("evt_d2", "charge.dispute.closed", "dp_1", "won")).await.0, 200);
    assert_eq!(status_now(plan(&app, &admin, &enrolled["id"]).await), "paid", "won: collected again");

    // A second dispute whose closing (lost) arrives before its opening.
    assert_eq!(deliver(&app, dispute("evt_d4", "charge.dispute.closed", "dp_2", "lost")).await.0, 200);
    assert_eq!(status_now(plan(&app, &admin, &enrolled["id"]).await), "disputed");
    assert_eq!(deliver(&app, dispute("evt_d3", "charge.dispute.created", "dp_2", "needs_response")).await.0, 200);
    let after = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(status_now(after.clone()), "disputed");
    let path = format!("/api/dashboard/v1/plans/{}/cancellation", enrolled["id"].as_str().unwrap());
    let (status, preview) = app.get_json(&path, &admin).await;
    assert_eq!(
        (status, preview["collected_cents"].as_i64()),
        (200, Some(0)),
        "a lost charge is not collected: {preview}"
    );
    let disputes: Vec<String> = actions(&after).into_iter().filter(|a| a.starts_with("payment.dispute")).collect();
    assert_eq!(
        disputes,
        ["payment.disputed", "payment.dispute_won", "payment.dispute_lost"],
        "the late opening is ignored"
    );
}

#[tokio::test]
async fn the_card_sweep_finds_a_number_in_any_text_column_of_either_database() {
    use sea_orm::ConnectionTrait;
    let app = petbridge_tests::spawn_app().await;
    app.practice("maple-vets").await;
    let url = app.database().url.clone();
    let swept = petbridge_tests::card_scan::tables_with_cards(&url).await.expect("the sweep reads the database");
    assert!(swept.is_empty(), "{swept:?}");
    let db = &app.platform.db;
    db.execute_unprepared("UPDATE practices SET name = 'Card 4242 4242 4242 4242'").await.unwrap();
    let swept = petbridge_tests::card_scan::tables_with_cards(&url).await.unwrap();
    assert_eq!(swept, ["practices"]);
    // Put back, so the sweep after the suite finds nothing here.
    db.execute_unprepared("UPDATE practices SET name = 'Maple'").await.unwrap();
}

#[tokio::test]
async fn a_refund_unanswered_past_the_gateways_idempotency_window_fails_for_staff_instead_of_being_sent_again() {
    let stripe = FakeStripe::start().await;
    let (app, admin, home) = practice(&stripe).await;
    let (_, saved) = save_card(&app, &stripe, &admin, &home.client, "pm_card_visa").await;
    let enrolled = enrol_on(&app, &admin, &home, &saved["card"], json!({})).await;
    let id = enrolled["id"].as_str().unwrap();
    stripe.answer_next([StripeAnswer::Unavailable]);
    let body = json!({ "reason": "moving away", "refund": "card" });
    let (status, cancelled) = app.staff_post(&admin, &format!("/plans/{id}/cancel"), Some(body)).await;
    assert_eq!((status, cancelled["refunds"][0]["status"].as_str()), (200, Some("processing")), "{cancelled}");
    app.clock.advance(chrono::Duration::hours(24));
    app.run_jobs().await;
    assert!(stripe.refunds().is_empty(), "not sent again once its key may be forgotten: {:?}", stripe.refunds());
    let admin = app.login("maple-vets", "admin").await;
    let now = plan(&app, &admin, &enrolled["id"]).await;
    assert_eq!(now["refunds"][0]["status"], "failed", "{now}");
    assert_eq!(payment(&now, 1)["status"], "paid", "nothing is paid back until staff look it up");
    assert!(actions(&now).contains(&"payment.refund_failed".to_owned()));
}
