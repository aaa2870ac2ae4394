//! Communication preferences (one record for the app and the dashboard),
//! message-center blasts and the reminder jobs, checked at send time.

use chrono::{Duration, TimeZone, Utc};
use petbridge_domain::db::entities::delivery::DeliveryStatus;
use petbridge_domain::db::entities::{client, delivery};
use petbridge_tests::{TestApp, at, spawn_app};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

async fn household_of(app: &TestApp, email: &str) -> Uuid {
    app.owner_account(email).await.client_id
}

async fn household_by_pms_id(app: &TestApp, pms_id: &str) -> Uuid {
    client::Entity::find().filter(client::Column::PmsId.eq(pms_id)).one(&app.platform.db).await.unwrap().unwrap().id
}

/// A verified owner with one push device; returns the app access token.
async fn app_user(app: &TestApp, practice: &str, email: &str, device: &str) -> String {
    let tokens = app.sign_up(practice, email).await;
    app.verify_owner(email).await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (status, _) = app
        .app_call(Method::POST, "/devices", Some(&access), Some(json!({ "token": device, "platform": "ios" })))
        .await;
    assert_eq!(status, 204);
    access
}

#[tokio::test]
async fn the_app_and_the_dashboard_share_one_preference_record_within_the_practice() {
    let app = spawn_app().await;
    app.practice("pref-vets").await;
    app.practice("other-vets").await;
    let access = app_user(&app, "pref-vets", "pat@example.com", "device-pat").await;
    let household = household_of(&app, "pat@example.com").await;

    let (status, preferences) = app.app_call(Method::GET, "/me/preferences", Some(&access), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        preferences,
        json!({ "post_visit_surveys": true, "postcard_reminders": true, "email": true, "two_way_texts": true, "push": true })
    );
    let (status, preferences) =
        app.app_call(Method::PATCH, "/me/preferences", Some(&access), Some(json!({ "push": false }))).await;
    assert_eq!(status, 200);
    assert_eq!(preferences["push"], false);
    assert_eq!(preferences["email"], true, "fields left out stay");

    let admin = app.login("pref-vets", "admin").await;
    let path = format!("/clients/{household}/preferences");
    let (status, seen) = app.staff_call(&admin, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(seen["push"], false, "staff see the owner's choice");
    let (status, _) = app.staff_call(&admin, Method::PATCH, &path, Some(json!({ "postcard_reminders": false }))).await;
    assert_eq!(status, 200);
    let (_, mine) = app.app_call(Method::GET, "/me/preferences", Some(&access), None).await;
    assert_eq!((mine["push"].clone(), mine["postcard_reminders"].clone()), (json!(false), json!(false)));
    let (_, log) = app.staff_call(&admin, Method::GET, "/activity", None).await;
    assert!(log.to_string().contains("client.preferences"), "staff changes are logged: {log}");

    // Bad input changes nothing; another practice's staff get 404 either way.
    let (status, problem) = app.staff_call(&admin, Method::PATCH, &path, Some(json!({ "email": "no" }))).await;
    assert_eq!(status, 400, "{problem}");
    let (_, unchanged) = app.staff_call(&admin, Method::GET, &path, None).await;
    assert_eq!(unchanged["email"], true);
    let outsider = app.login("other-vets", "admin").await;
    assert_eq!(app.staff_call(&outsider, Method::GET, &path, None).await.0, 404);
    assert_eq!(app.staff_call(&outsider, Method::PATCH, &path, Some(json!({ "email": false }))).await.0, 404);
    let (_, still) = app.staff_call(&admin, Method::GET, &path, None).await;
    assert_eq!(still["email"], true);
}

#[tokio::test]
async fn a_blast_reaches_active_app_users_at_its_time_and_every_skip_says_why() {
    let app = spawn_app().await;
    app.practice("blast-vets").await;
    app_user(&app, "blast-vets", "active@example.com", "device-active").await;
    app_user(&app, "blast-vets", "off@example.com", "device-off").await;
    let off = app.owner_login("blast-vets", "off@example.com").await.1["access_token"].as_str().unwrap().to_owned();
    app.app_call(Method::PATCH, "/me/preferences", Some(&off), Some(json!({ "push": false }))).await;
    app_user(&app, "blast-vets", "disabled@example.com", "device-disabled").await;
    let admin = app.login("blast-vets", "admin").await;
    app.deliver_all().await;

    let (status, problem) =
        app.staff_call(&admin, Method::POST, "/campaigns/blasts", Some(json!({ "title": " ", "body": "x" }))).await;
    assert_eq!((status, problem["code"].clone()), (422, json!("invalid_title")));
    let send_at = app.clock_now() + Duration::hours(1);
    let blast =
        json!({ "title": "Closed Friday", "body": "We are closed on Friday for training.", "send_at": send_at });
    let (status, created) = app.staff_call(&admin, Method::POST, "/campaigns/blasts", Some(blast)).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["done_at"].is_null());

    assert_eq!(app.run_jobs().await.campaigns, 0, "not before its time");
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.run_jobs().await.campaigns, 1);
    assert_eq!(app.run_jobs().await.campaigns, 0, "sent once");
    // Deactivated after the blast was queued, before it went out: checked at send time.
    let disabled = household_of(&app, "disabled@example.com").await;
    assert_eq!(app.staff_call(&admin, Method::POST, &format!("/clients/{disabled}/disable"), None).await.0, 204);
    app.deliver_all().await;

    let fate = |rows: Vec<delivery::Model>| {
        let row = rows.into_iter().find(|d| d.purpose == "blast").expect("a blast delivery");
        (row.status, row.last_error.unwrap_or_default())
    };
    assert_eq!(fate(app.deliveries_to("device-active").await).0, DeliveryStatus::Sent);
    let (status, why) = fate(app.deliveries_to("device-off").await);
    assert_eq!(status, DeliveryStatus::Skipped);
    assert!(why.contains("push notifications off"), "{why}");
    let (status, why) = fate(app.deliveries_to("device-disabled").await);
    assert_eq!(status, DeliveryStatus::Skipped);
    assert!(why.contains("disabled"), "{why}");
    let sent = app.deliveries_to("device-active").await.into_iter().find(|d| d.purpose == "blast").unwrap();
    assert!(sent.reason.contains("blast"), "each delivery says why it was sent: {}", sent.reason);

    let (_, campaigns) = app.staff_call(&admin, Method::GET, "/campaigns", None).await;
    assert_eq!(campaigns[0]["kind"], "blast");
    assert_eq!(campaigns[0]["recipients"], 3);
    assert!(campaigns[0]["done_at"].is_string());
}

#[tokio::test]
async fn reminders_go_once_per_household_in_daytime_and_never_for_a_booked_pet() {
    let app = spawn_app().await;
    // 21:30 in Denver on 2 December: past the texting day.
    let evening = Utc.with_ymd_and_hms(2026, 12, 3, 4, 30, 0).unwrap();
    app.clock.set(evening);
    let fixture = app.practice("remind-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    let stamp = at(evening - Duration::hours(1), 0);
    let day = |d: u32| format!("2026-11-{d:02}");
    let batch = json!({
        "clients": [
            { "pms_id": "H1", "updated_at": stamp, "first_name": "Hana", "last_name": "One", "email": "h1@example.com", "last_transaction_on": day(30) },
            { "pms_id": "H2", "updated_at": stamp, "first_name": "Hugo", "last_name": "Two", "phone": "(303) 555-0142", "last_transaction_on": day(30) },
            { "pms_id": "H3", "updated_at": stamp, "first_name": "Hal", "last_name": "Three", "email": "h3@example.com", "last_transaction_on": day(30) }
        ],
        "pets": [
            { "pms_id": "P1", "updated_at": stamp, "client_pms_id": "H1", "name": "Rex" },
            { "pms_id": "P2", "updated_at": stamp, "client_pms_id": "H1", "name": "Bella" },
            { "pms_id": "P3", "updated_at": stamp, "client_pms_id": "H2", "name": "Tom" },
            { "pms_id": "P4", "updated_at": stamp, "client_pms_id": "H3", "name": "Kit" }
        ],
        "reminders": [
            { "pms_id": "R1", "updated_at": stamp, "client_pms_id": "H1", "pet_pms_id": "P1", "service": "Rabies vaccine", "due_on": day(20) },
            { "pms_id": "R2", "updated_at": stamp, "client_pms_id": "H1", "pet_pms_id": "P2", "service": "DHPP", "due_on": day(25) },
            { "pms_id": "R3", "updated_at": stamp, "client_pms_id": "H2", "pet_pms_id": "P3", "service": "FVRCP", "due_on": day(28) },
            { "pms_id": "R4", "updated_at": stamp, "client_pms_id": "H3", "pet_pms_id": "P4", "service": "Exam", "due_on": day(29) },
            { "pms_id": "R5", "updated_at": stamp, "client_pms_id": "H1", "pet_pms_id": "P1", "service": "Dental", "due_on": "2027-01-15" }
        ],
        "appointments": [
            // Kit's exam is booked: no past-due reminder for it.
            { "pms_id": "A1", "updated_at": stamp, "client_pms_id": "H3", "pet_pms_id": "P4", "starts_at": at(evening + Duration::days(8), 0), "reason": "Exam" },
            // Tom comes tomorrow afternoon: an appointment reminder, and his FVRCP is booked too.
            { "pms_id": "A2", "updated_at": stamp, "client_pms_id": "H2", "pet_pms_id": "P3", "starts_at": at(evening + Duration::hours(15), 0), "reason": "Vaccines" }
        ]
    });
    let (status, outcome) = app.sync(&key, &batch).await;
    assert_eq!(status, 200, "{outcome}");
    app.deliver_all().await;

    assert!(app.run_jobs().await.reminders.is_idle(), "nothing goes out at 21:30 local");
    // 08:00 in Denver on 3 December.
    app.clock.set(Utc.with_ymd_and_hms(2026, 12, 3, 15, 0, 0).unwrap());
    let run = app.run_jobs().await.reminders;
    assert_eq!((run.past_due, run.appointments, run.surveys), (1, 1, 0), "{run:?}");
    assert!(app.run_jobs().await.reminders.is_idle(), "each reminder is brought up once");

    let to_hana = app.deliveries_to("h1@example.com").await;
    assert_eq!(to_hana.len(), 1, "one message for the household, not one per pet");
    assert_eq!((to_hana[0].channel.as_str(), to_hana[0].purpose.as_str()), ("email", "reminder"));
    assert!(to_hana[0].body.contains("Rex is past due for Rabies vaccine"), "{}", to_hana[0].body);
    assert!(to_hana[0].body.contains("Bella is past due for DHPP"), "{}", to_hana[0].body);
    assert!(!to_hana[0].body.contains("Dental"), "not yet due");
    assert_eq!(to_hana[0].reason, "past-due service reminder");
    let to_hugo = app.deliveries_to("+13035550142").await;
    assert_eq!(to_hugo.len(), 1, "{to_hugo:?}");
    assert!(to_hugo[0].body.contains("appointment for Tom") && !to_hugo[0].body.contains("past due"));
    assert!(app.deliveries_to("h3@example.com").await.is_empty(), "Kit is booked");
    assert_eq!(app.deliver_all().await.sent, 2);

    // A household that turned reminders off: the worker skips it and says why.
    let admin = app.login("remind-vets", "admin").await;
    let hana = household_by_pms_id(&app, "H1").await;
    let path = format!("/clients/{hana}/preferences");
    app.staff_call(&admin, Method::PATCH, &path, Some(json!({ "postcard_reminders": false }))).await;
    let later = at(app.clock_now(), 0);
    let more = json!({
        "reminders": [{ "pms_id": "R6", "updated_at": later, "client_pms_id": "H1", "pet_pms_id": "P2", "service": "Bordetella", "due_on": "2026-12-02" }],
        "appointments": [{ "pms_id": "A3", "updated_at": later, "client_pms_id": "H1", "pet_pms_id": "P1", "starts_at": at(app.clock_now() - Duration::hours(3), 0), "status": "completed", "reason": "Exam" }]
    });
    assert_eq!(app.sync(&key, &more).await.0, 200);
    let run = app.run_jobs().await.reminders;
    assert_eq!((run.past_due, run.surveys), (1, 1), "{run:?}");
    app.deliver_all().await;
    let to_hana = app.deliveries_to("h1@example.com").await;
    let reminder = to_hana.iter().find(|d| d.body.contains("Bordetella")).unwrap();
    assert_eq!(reminder.status, DeliveryStatus::Skipped);
    assert!(reminder.last_error.as_deref().unwrap_or("").contains("reminders"), "{reminder:?}");
    let survey = to_hana.iter().find(|d| d.purpose == "survey").unwrap();
    assert_eq!(survey.status, DeliveryStatus::Sent, "surveys are still wanted");
    assert!(survey.body.contains("Rex's visit"), "{}", survey.body);
}
