//! Email through SMTP (a local fake server that checks every message's
//! headers): one-click unsubscribe that updates preferences, account mail
//! that always goes, and the server's refusals.

use petbridge_domain::db::entities::delivery::DeliveryStatus;
use std::sync::Arc;

use chrono::Duration;
use petbridge_tests::{
    TestApp, TestDatabase,
    fakes::{FakeSmtp, SmtpAnswer},
    spawn_with, test_settings,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn app_with_smtp(fake: &FakeSmtp) -> TestApp {
    let database = Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    fake.configure(&mut settings);
    spawn_with(settings, database).await
}

async fn invite(app: &TestApp, admin: &str, email: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/clients/invitations"))
        .bearer_auth(admin)
        .json(&json!({ "email": email, "first_name": "Ann", "last_name": "Lee" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn email_preference(app: &TestApp, admin: &str, client: &str) -> Value {
    let (status, body) = app.get_json(&format!("/api/dashboard/v1/clients/{client}/preferences"), admin).await;
    assert_eq!(status, 200);
    body["email"].clone()
}

/// The path of a `<http://host/path>` header value.
fn path_of(header: &str) -> String {
    let url = header.trim_start_matches('<').trim_end_matches('>');
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/".into(), |slash| rest[slash..].to_owned())
}

#[tokio::test]
async fn marketing_mail_unsubscribes_in_one_click_and_account_mail_always_goes() {
    let fake = FakeSmtp::start().await;
    let app = app_with_smtp(&fake).await;
    app.practice("mail-vets").await;
    let admin = app.login("mail-vets", "admin").await;
    app.deliver_all().await;
    let before = fake.emails().len();

    let ann = invite(&app, &admin, "ann@example.com").await;
    let ann_id = ann["id"].as_str().unwrap().to_owned();
    assert_eq!(app.deliver_all().await.sent, 1);
    let emails = fake.emails();
    assert_eq!(emails.len(), before + 1);
    let invitation = emails.last().unwrap();
    assert_eq!(invitation.envelope_to, vec!["ann@example.com".to_owned()]);
    assert!(invitation.header("subject").unwrap().contains("mail-vets Veterinary Clinic"));
    let unsubscribe = invitation.header("list-unsubscribe").expect("a List-Unsubscribe header").to_owned();
    assert!(invitation.body.contains("/preferences/"), "a preference-centre link: {}", invitation.body);
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());

    // Opening the link (a mail scanner does) changes nothing; the one-click POST unsubscribes.
    let path = path_of(&unsubscribe);
    let page = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(email_preference(&app, &admin, &ann_id).await, true);
    let clicked = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 200);
    assert_eq!(email_preference(&app, &admin, &ann_id).await, false);
    // A forged token: 404, and nothing changes.
    let forged = format!("/preferences/{}/unsubscribe", "A".repeat(43));
    assert_eq!(app.client.post(app.url(&forged)).send().await.unwrap().status(), 404);

    // The next marketing email is skipped at send time, and says why.
    invite(&app, &admin, "ann@example.com").await;
    let outcome = app.deliver_all().await;
    assert_eq!((outcome.sent, outcome.skipped), (0, 1));
    let rows = app.deliveries_to("ann@example.com").await;
    let skipped = rows.last().unwrap();
    assert_eq!(skipped.status, DeliveryStatus::Skipped);
    assert!(skipped.last_error.as_deref().unwrap_or("").contains("unsubscribed from email"), "{skipped:?}");
    assert_eq!(fake.emails().len(), before + 1);

    // The preference centre, from the same link, turns email back on.
    let centre = path.trim_end_matches("/unsubscribe").to_owned();
    let saved = app.client.post(app.url(&centre)).form(&[("email", "on"), ("push", "on")]).send().await.unwrap();
    assert_eq!(saved.status(), 200);
    assert_eq!(email_preference(&app, &admin, &ann_id).await, true);

    // Account mail goes whatever the preferences say, and carries no unsubscribe.
    let tokens = app.sign_up("mail-vets", "bob@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _) =
        app.app_call(Method::PATCH, "/me/preferences", Some(access), Some(json!({ "email": false }))).await;
    assert_eq!(status, 200);
    app.deliver_all().await;
    let verification = fake.emails().into_iter().find(|e| e.envelope_to == ["bob@example.com"]).expect("sent");
    assert!(verification.header("list-unsubscribe").is_none());
    assert!(verification.body.contains("/app/verify-email?token="), "{}", verification.body);
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());
}

#[tokio::test]
async fn the_smtp_servers_refusals_fail_or_retry_as_their_codes_say() {
    let fake = FakeSmtp::start().await;
    let app = app_with_smtp(&fake).await;
    app.practice("bounce-vets").await;
    let admin = app.login("bounce-vets", "admin").await;
    app.deliver_all().await;

    fake.answer_for("gone@example.com", SmtpAnswer::NoMailbox);
    invite(&app, &admin, "gone@example.com").await;
    app.deliver_all().await;
    let gone = app.deliveries_to("gone@example.com").await.pop().unwrap();
    assert_eq!(gone.status, DeliveryStatus::Failed);
    assert!(gone.last_error.as_deref().unwrap_or("").contains("550"), "{gone:?}");

    fake.answer_next(SmtpAnswer::Transient);
    invite(&app, &admin, "later@example.com").await;
    app.deliver_all().await;
    let waiting = app.deliveries_to("later@example.com").await.pop().unwrap();
    assert_eq!((waiting.status, waiting.attempts), (DeliveryStatus::Queued, 1), "451 is tried again: {waiting:?}");
    app.clock.advance(Duration::minutes(30));
    app.deliver_all().await;
    let sent = app.deliveries_to("later@example.com").await.pop().unwrap();
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert_eq!(sent.provider_id.as_deref(), Some(format!("<{}@valley.example>", sent.id).as_str()));
    assert_eq!(fake.emails().iter().filter(|e| e.envelope_to == ["later@example.com"]).count(), 1);
}

#[tokio::test]
async fn a_healthcare_agreement_goes_out_as_a_pdf_attachment_byte_for_byte() {
    let fake = FakeSmtp::start().await;
    let app = app_with_smtp(&fake).await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = crate::plans::household(&app, &fixture, &admin).await;
    crate::plan_renewals::give_ann_her_email(&app, &fixture).await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true });
    let (status, plan) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{plan}");
    app.deliver_all().await;

    let emails = fake.emails();
    let sent = emails
        .iter()
        .find(|e| e.header("subject").is_some_and(|s| s.contains("healthcare agreement")))
        .expect("the agreement email");
    assert!(sent.header("content-type").unwrap().starts_with("multipart/mixed"), "{:?}", sent.headers);
    let parts = sent.parts();
    assert!(parts[0].header("content-type").is_some_and(|t| t.starts_with("text/plain")), "the letter comes first");
    let pdf = parts.iter().find(|p| p.header("content-type") == Some("application/pdf")).expect("a PDF part");
    let disposition = pdf.header("content-disposition").unwrap_or_default();
    assert!(disposition.contains("healthcare-agreement-bella-1.pdf"), "{disposition}");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let listed = plan["agreements"][0]["sha256"].as_str().unwrap();
    assert_eq!(petbridge_domain::kernel::tokens::sha256_hex(&pdf.body), listed, "the PDF the plan lists, intact");
    assert!(fake.shape_errors().is_empty(), "{:?}", fake.shape_errors());
}
