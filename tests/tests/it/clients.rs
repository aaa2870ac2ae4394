//! Clients and owner accounts: the Users list rules and statuses, owner
//! sign-up, verification, tokens, reset, deletion, pets in the app.

use chrono::{Duration, Months};
use petbridge_tests::{PASSWORD, TestApp, at, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// The Users-list row of the client with `email`, if listed.
async fn row(app: &TestApp, token: &str, email: &str) -> Option<Value> {
    let (status, page) = app.get_json(&format!("/api/dashboard/v1/clients?search={email}&limit=200"), token).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().iter().find(|r| r["email"] == email).cloned()
}

async fn statuses(app: &TestApp, token: &str, email: &str) -> (Value, Value) {
    let row = row(app, token, email).await.unwrap_or_else(|| panic!("{email} is not listed"));
    (row["account_status"].clone(), row["pet_sync_status"].clone())
}

#[tokio::test]
async fn every_account_status_and_pet_sync_status_is_reached() {
    let app = spawn_app().await;
    let fixture = app.practice("statuses").await;
    let key = app.sync_key(&fixture.practice).await;
    let admin = app.login("statuses", "admin").await;
    let now = app.clock_now();
    let today = now.date_naive();
    app.sync(
        &key,
        &json!({
            "clients": [
                { "pms_id": "S1", "updated_at": at(now, 0), "first_name": "Sam", "last_name": "Synced", "email": "sam@example.com", "last_transaction_on": today },
                { "pms_id": "S2", "updated_at": at(now, 0), "first_name": "Ina", "last_name": "Active", "email": "ina@example.com", "last_transaction_on": today, "active": false }
            ],
            "pets": [{ "pms_id": "SP1", "updated_at": at(now, 0), "client_pms_id": "S1", "name": "Biscuit", "species": "Dog" }],
            "reminders": [{ "pms_id": "SR1", "updated_at": at(now, 0), "client_pms_id": "S1", "pet_pms_id": "SP1", "service": "Distemper", "due_on": today - Duration::days(3) }]
        }),
    )
    .await;

    // A PMS client with no account: no status yet, pets not available.
    assert_eq!(statuses(&app, &admin, "sam@example.com").await, (Value::Null, json!("not_available")));
    // Inactive in the PMS and invited: Disabled.
    let (status, _) = app.staff_post(&admin, "/clients/invitations", Some(json!({ "email": "ina@example.com" }))).await;
    assert_eq!(status, 201);
    assert_eq!(statuses(&app, &admin, "ina@example.com").await.0, "disabled");
    // Invited.
    let invitation = json!({ "email": "new@example.com", "first_name": "Nia", "last_name": "New" });
    assert_eq!(app.staff_post(&admin, "/clients/invitations", Some(invitation)).await.0, 201);
    assert_eq!(statuses(&app, &admin, "new@example.com").await, (json!("invited"), json!("not_available")));
    let (_, invitation) = app.get_json("/api/dashboard/v1/deliveries", &admin).await;
    assert!(invitation.to_string().contains("new@example.com"), "the invitation is in the outbox");

    // Signed up, email not verified: an app user without the other features.
    let tokens = app.sign_up("statuses", "sam@example.com").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(statuses(&app, &admin, "sam@example.com").await, (json!("email_not_verified"), json!("not_available")));
    let (status, problem) = app.app_call(Method::GET, "/pets", Some(&access), None).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("email_not_verified")));
    let (_, me) = app.app_call(Method::GET, "/me", Some(&access), None).await;
    assert_eq!(me["status"], "email_not_verified");
    assert_eq!(me["first_name"], "Pat", "not the PMS client's household until the email is proved");

    // Verified and matched: Connected; the app shows the PMS pets and what is past due.
    app.verify_owner("sam@example.com").await;
    let (_, me) = app.app_call(Method::GET, "/me", Some(&access), None).await;
    assert_eq!(me["first_name"], "Sam", "matched to the PMS client by email once verified");
    assert_eq!(statuses(&app, &admin, "sam@example.com").await, (json!("verified"), json!("connected")));
    let (status, pets) = app.app_call(Method::GET, "/pets", Some(&access), None).await;
    assert_eq!(status, 200, "{pets}");
    assert_eq!(pets[0]["name"], "Biscuit");
    assert_eq!(pets[0]["past_due"], true);
    let sam = row(&app, &admin, "sam@example.com").await.unwrap();
    assert_eq!(sam["past_due"], true);
    assert_eq!(sam["pets"][0]["past_due"], true);
    let (_, detail) = app.get_json(&format!("/api/dashboard/v1/clients/{}", sam["id"].as_str().unwrap()), &admin).await;
    let message = detail["past_due_message"].as_str().unwrap();
    assert!(message.contains("Biscuit's Distemper"), "{message}");

    // Verified without a PMS match: No email match found.
    let stranger = app.sign_up("statuses", "stranger@example.com").await;
    app.verify_owner("stranger@example.com").await;
    assert_eq!(statuses(&app, &admin, "stranger@example.com").await, (json!("verified"), json!("no_email_match")));

    // Active App Users lists the verified ones only.
    let (_, active) = app.get_json("/api/dashboard/v1/clients?filter=active_app_users", &admin).await;
    let mut emails: Vec<&str> =
        active["items"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["sam@example.com", "stranger@example.com"]);

    // Changing a verified account's email: Email Not Verified until the new address is.
    let stranger_access = stranger["access_token"].as_str().unwrap();
    let (status, _) = app
        .app_call(
            Method::PUT,
            "/me/email",
            Some(stranger_access),
            Some(json!({ "email": "moved@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(statuses(&app, &admin, "moved@example.com").await.0, "email_not_verified");
    assert_eq!(app.app_call(Method::GET, "/pets", Some(stranger_access), None).await.0, 403);
    // Verified through the emailed page this time, as an owner on a phone would.
    let token = app.emailed_token("moved@example.com", "verify_email").await;
    let page = app
        .client
        .get(app.url(&format!("/app/verify-email?token={token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Confirm my email"), "{page}");
    let done = app.client.post(app.url("/app/verify-email")).form(&[("token", token.as_str())]).send().await.unwrap();
    assert!(done.text().await.unwrap().contains("your email is confirmed"));
    assert_eq!(statuses(&app, &admin, "moved@example.com").await, (json!("verified"), json!("no_email_match")));

    // The PMS learns the new address: the sign-up joins that client, one row, Connected.
    app.sync(
        &key,
        &json!({ "clients": [{ "pms_id": "S3", "updated_at": at(now, 5), "first_name": "Stan", "last_name": "Ger", "email": "moved@example.com", "last_transaction_on": today }] }),
    )
    .await;
    let (_, listed) = app.get_json("/api/dashboard/v1/clients?search=moved@example.com", &admin).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["pms_id"], "S3");
    assert_eq!(listed["items"][0]["pet_sync_status"], "connected");
    assert_eq!(listed["items"][0]["account_status"], "verified");
    assert_eq!(app.app_call(Method::GET, "/me", Some(stranger_access), None).await.1["first_name"], "Stan");

    // Deactivated by the practice: Disabled; no login; its tokens stop.
    let sam_id = sam["id"].as_str().unwrap();
    assert_eq!(app.staff_post(&admin, &format!("/clients/{sam_id}/disable"), None).await.0, 204);
    assert_eq!(statuses(&app, &admin, "sam@example.com").await.0, "disabled");
    let (status, problem) = app.owner_login("statuses", "sam@example.com").await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("account_disabled")));
    assert_eq!(app.app_call(Method::GET, "/me", Some(&access), None).await.0, 401);
    assert_eq!(app.staff_post(&admin, &format!("/clients/{sam_id}/enable"), None).await.0, 204);
    assert_eq!(app.owner_login("statuses", "sam@example.com").await.0, 200);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_login() {
    let app = spawn_app().await;
    app.practice("tokens").await;
    app.sign_up("tokens", "tok@example.com").await;
    let (status, first) = app.owner_login("tokens", "tok@example.com").await;
    assert_eq!(status, 200);
    let (status, _) = app.owner_login("tokens", "nobody@example.com").await;
    assert_eq!(status, 401);

    let refresh = |token: &str| json!({ "refresh_token": token });
    let (status, second) = app
        .app_call(Method::POST, "/auth/refresh", None, Some(refresh(first["refresh_token"].as_str().unwrap())))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(app.app_call(Method::GET, "/me", Some(access), None).await.0, 200);
    assert_eq!(
        app.app_call(Method::GET, "/me", first["access_token"].as_str(), None).await.0,
        401,
        "the old access token stops at refresh"
    );

    // The first refresh token again, after the grace window for a second
    // tab or a retry: someone copied it. The whole login ends.
    app.clock.advance(Duration::seconds(petbridge_domain::owners::accounts::REFRESH_GRACE_SECONDS + 1));
    let (status, problem) = app
        .app_call(Method::POST, "/auth/refresh", None, Some(refresh(first["refresh_token"].as_str().unwrap())))
        .await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("refresh_token_reused")));
    assert_eq!(app.app_call(Method::GET, "/me", Some(access), None).await.0, 401);
    let (status, _) = app
        .app_call(Method::POST, "/auth/refresh", None, Some(refresh(second["refresh_token"].as_str().unwrap())))
        .await;
    assert_eq!(status, 401);

    // Access tokens are short-lived.
    let (_, third) = app.owner_login("tokens", "tok@example.com").await;
    let access = third["access_token"].as_str().unwrap();
    app.clock.advance(Duration::minutes(16));
    let (status, problem) = app.app_call(Method::GET, "/me", Some(access), None).await;
    assert_eq!((status, problem["code"].as_str()), (401, Some("access_token_expired")));
    let (status, fourth) = app
        .app_call(Method::POST, "/auth/refresh", None, Some(refresh(third["refresh_token"].as_str().unwrap())))
        .await;
    assert_eq!(status, 200);

    // Devices belong to the login that registered them and go at logout.
    let access = fourth["access_token"].as_str().unwrap();
    let device = json!({ "token": "fcm-token-1:abc", "platform": "android" });
    assert_eq!(app.app_call(Method::POST, "/devices", Some(access), Some(device)).await.0, 204);
    let (_, devices) = app.app_call(Method::GET, "/devices", Some(access), None).await;
    assert_eq!(devices[0]["token"], "fcm-token-1:abc");
    assert_eq!(app.app_call(Method::POST, "/auth/logout", Some(access), None).await.0, 204);
    assert_eq!(app.app_call(Method::GET, "/me", Some(access), None).await.0, 401);
    let (_, fifth) = app.owner_login("tokens", "tok@example.com").await;
    let (_, devices) = app.app_call(Method::GET, "/devices", fifth["access_token"].as_str(), None).await;
    assert_eq!(devices, json!([]), "logout dropped the device");
    let bad = json!({ "token": "x", "platform": "windows" });
    assert_eq!(app.app_call(Method::POST, "/devices", fifth["access_token"].as_str(), Some(bad)).await.0, 422);
}

fn reset_asked_for(email: &str) -> Value {
    json!({ "practice": "resets", "email": email })
}

#[tokio::test]
async fn a_password_reset_link_sets_a_strong_password_once_and_ends_every_login() {
    let app = spawn_app().await;
    app.practice("resets").await;
    let tokens = app.sign_up("resets", "forgetful@example.com").await;
    let ask = |email: &str| app.app_call(Method::POST, "/auth/password-reset", None, Some(reset_asked_for(email)));
    assert_eq!(ask("nobody@example.com").await.0, 202, "unknown addresses are answered the same");
    assert_eq!(ask("forgetful@example.com").await.0, 202);
    let token = app.emailed_token("forgetful@example.com", "reset_password").await;
    let confirm = |password: &str| {
        let body = json!({ "token": token, "password": password });
        app.app_call(Method::POST, "/auth/password-reset/confirm", None, Some(body))
    };
    let (status, problem) = confirm("password1").await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("weak_password")));
    let new_password = "a brand new passphrase for the app";
    assert_eq!(confirm(new_password).await.0, 204);
    assert_eq!(confirm(new_password).await.0, 422, "a link works once");
    assert_eq!(app.app_call(Method::GET, "/me", tokens["access_token"].as_str(), None).await.0, 401, "logins end");
    let login = json!({ "practice": "resets", "email": "forgetful@example.com", "password": new_password });
    assert_eq!(app.app_call(Method::POST, "/auth/login", None, Some(login)).await.0, 200);
}

#[tokio::test]
async fn the_emailed_reset_page_works_without_the_app() {
    let app = spawn_app().await;
    app.practice("resets").await;
    app.sign_up("resets", "forgetful@example.com").await;
    let asked = Some(reset_asked_for("forgetful@example.com"));
    assert_eq!(app.app_call(Method::POST, "/auth/password-reset", None, asked).await.0, 202);
    let token = app.emailed_token("forgetful@example.com", "reset_password").await;
    let page = app.client.get(app.url(&format!("/app/reset-password?token={token}"))).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Choose a new password"));
    let new_password = "yet another long passphrase here";
    let form = [("token", token.as_str()), ("password", new_password)];
    let done = app.client.post(app.url("/app/reset-password")).form(&form).send().await.unwrap();
    let done = done.text().await.unwrap();
    assert!(done.contains("Your password is changed"), "{done}");
    let login = json!({ "practice": "resets", "email": "forgetful@example.com", "password": new_password });
    assert_eq!(app.app_call(Method::POST, "/auth/login", None, Some(login)).await.0, 200);
}

#[tokio::test]
async fn deleting_an_account_takes_its_password_and_leaves_only_an_anonymous_log_line() {
    let app = spawn_app().await;
    app.practice("resets").await;
    let admin = app.login("resets", "admin").await;
    let tokens = app.sign_up("resets", "forgetful@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert!(row(&app, &admin, "forgetful@example.com").await.is_some());
    let wrong = json!({ "password": "not my password at all" });
    assert_eq!(app.app_call(Method::POST, "/me/deletion", Some(access), Some(wrong)).await.0, 401);
    let right = json!({ "password": PASSWORD });
    assert_eq!(app.app_call(Method::POST, "/me/deletion", Some(access), Some(right)).await.0, 204);
    assert!(row(&app, &admin, "forgetful@example.com").await.is_none(), "deleted accounts leave the list");
    assert_eq!(app.owner_login("resets", "forgetful@example.com").await.0, 401);
    let (_, log) = app.get_json("/api/dashboard/v1/activity?action=owner.account_deleted", &admin).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert!(!log.to_string().contains("forgetful"), "no personal data stays on the log");
}

#[tokio::test]
async fn listing_rules_merges_and_pets_leaving_the_app() {
    let app = spawn_app().await;
    let fixture = app.practice("rules").await;
    let key = app.sync_key(&fixture.practice).await;
    let admin = app.login("rules", "admin").await;
    let now = app.clock_now();
    let today = now.date_naive();
    let months_ago = |n: u32| today.checked_sub_months(Months::new(n)).unwrap();
    app.sync(
        &key,
        &json!({ "clients": [
            { "pms_id": "R1", "updated_at": at(now, 0), "first_name": "Old", "last_name": "Timer", "email": "old@example.com", "last_transaction_on": months_ago(25) },
            { "pms_id": "R2", "updated_at": at(now, 0), "first_name": "Re", "last_name": "Cent", "email": "recent@example.com", "last_transaction_on": months_ago(23) },
            { "pms_id": "R3", "updated_at": at(now, 0), "first_name": "Owen", "last_name": "Owner", "email": "owen@example.com", "last_transaction_on": today }
        ]}),
    )
    .await;
    assert!(row(&app, &admin, "old@example.com").await.is_none(), "25 months without a transaction: not listed");
    assert!(row(&app, &admin, "recent@example.com").await.is_some());
    // An invoice counts as a transaction.
    app.sync(&key, &json!({ "invoices": [{ "pms_id": "INV1", "updated_at": at(now, 0), "client_pms_id": "R1", "invoiced_on": today, "lines": [] }] })).await;
    assert!(row(&app, &admin, "old@example.com").await.is_some());

    // An owner-added pet merges into the PMS pet with the same name and birth date.
    let tokens = app.sign_up("rules", "owen@example.com").await;
    app.verify_owner("owen@example.com").await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, mine) = app
        .app_call(
            Method::POST,
            "/pets",
            Some(access),
            Some(json!({ "name": "Pepper", "species": "Cat", "date_of_birth": "2020-02-02" })),
        )
        .await;
    assert_eq!(status, 201, "{mine}");
    app.app_call(Method::POST, "/pets", Some(access), Some(json!({ "name": "Salt", "date_of_birth": "2021-01-01" })))
        .await;
    app.sync(
        &key,
        &json!({ "pets": [
            { "pms_id": "RP1", "updated_at": at(now, 1), "client_pms_id": "R3", "name": "PEPPER", "species": "Feline", "date_of_birth": "2020-02-02" },
            { "pms_id": "RP2", "updated_at": at(now, 1), "client_pms_id": "R3", "name": "Salt", "date_of_birth": "2021-01-02" }
        ]}),
    )
    .await;
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(access), None).await;
    let mut names: Vec<(&str, bool)> = pets
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["added_by_owner"].as_bool().unwrap()))
        .collect();
    names.sort_unstable();
    assert_eq!(names, [("PEPPER", false), ("Salt", false), ("Salt", true)], "{pets}");
    let pepper = pets.as_array().unwrap().iter().find(|p| p["name"] == "PEPPER").unwrap();
    assert_eq!(pepper["id"], mine["id"], "the owner's profile became the PMS pet");

    // The PMS marks Pepper deceased: still shown for 24 hours, gone by 48.
    app.sync(
        &key,
        &json!({ "pets": [{ "pms_id": "RP1", "updated_at": at(now, 2), "client_pms_id": "R3", "name": "PEPPER", "date_of_birth": "2020-02-02", "status": "deceased" }] }),
    )
    .await;
    let names = |pets: &Value| -> Vec<String> {
        pets.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    app.clock.advance(Duration::hours(23));
    let (_, fresh) = app.owner_login("rules", "owen@example.com").await;
    let (_, pets) = app.app_call(Method::GET, "/pets", fresh["access_token"].as_str(), None).await;
    assert!(names(&pets).contains(&"PEPPER".to_owned()), "{pets}");
    app.clock.advance(Duration::hours(25));
    let (_, fresh) = app.owner_login("rules", "owen@example.com").await;
    let access = fresh["access_token"].as_str().unwrap().to_owned();
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(&access), None).await;
    assert!(!names(&pets).contains(&"PEPPER".to_owned()), "{pets}");

    // The practice reinstates it; and removes another at once.
    let admin = app.login("rules", "admin").await;
    let pepper_id = pepper["id"].as_str().unwrap();
    assert_eq!(app.staff_post(&admin, &format!("/pets/{pepper_id}/reinstate"), None).await.0, 200);
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(&access), None).await;
    assert!(names(&pets).contains(&"PEPPER".to_owned()), "{pets}");
    let salt = pets.as_array().unwrap().iter().find(|p| p["added_by_owner"] == false && p["name"] == "Salt").unwrap();
    let (_, card) = app.staff_post(&admin, &format!("/pets/{}/remove", salt["id"].as_str().unwrap()), None).await;
    assert_eq!(card["in_app"], false);
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(&access), None).await;
    assert_eq!(names(&pets), ["PEPPER", "Salt"], "{pets}");

    // Another practice's staff and another owner get 404.
    app.practice("elsewhere").await;
    let stranger = app.login("elsewhere", "admin").await;
    assert_eq!(app.staff_post(&stranger, &format!("/pets/{pepper_id}/remove"), None).await.0, 404);
    let other = app.sign_up("rules", "someone.else@example.com").await;
    let other_access = other["access_token"].as_str().unwrap();
    let response =
        app.client.delete(app.url("/api/app/v1/devices/fcm-of-owen")).bearer_auth(other_access).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn reinvite_all_goes_once_per_calendar_month() {
    let app = spawn_app().await;
    let fixture = app.practice("reinvite").await;
    let key = app.sync_key(&fixture.practice).await;
    let manager = {
        app.staff(&fixture.practice, "mgr", petbridge_domain::kernel::permissions::SecurityLevel::Manager).await;
        app.login("reinvite", "mgr").await
    };
    let now = app.clock_now();
    let clients: Vec<Value> = (0..5)
        .map(|i| json!({ "pms_id": format!("V{i}"), "updated_at": at(now, 0), "last_name": format!("V{i}"), "email": format!("v{i}@example.com"), "last_transaction_on": now.date_naive() }))
        .collect();
    app.sync(&key, &json!({ "clients": clients })).await;
    app.verified_owner("reinvite", "v0@example.com").await;

    let (status, outcome) = app.staff_post(&manager, "/clients/reinvite-all", None).await;
    assert_eq!(status, 200);
    assert_eq!(outcome["invited"], 4, "everyone but the app user");
    // The campaigns job sends it.
    assert_eq!(app.run_jobs().await.campaigns, 1);
    assert_eq!(app.run_jobs().await.campaigns, 0, "a campaign runs once");
    assert_eq!(statuses(&app, &manager, "v1@example.com").await.0, "invited");
    let invitations = app.deliveries_to("v1@example.com").await;
    assert_eq!(invitations.len(), 1);
    assert_eq!(invitations[0].purpose, "invitation");

    let (status, problem) = app.staff_post(&manager, "/clients/reinvite-all", None).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "reinvite_already_sent");
    let next = outcome["next_allowed_on"].as_str().unwrap();
    assert!(problem["detail"].as_str().unwrap().contains(next), "{problem}");

    // From the first of next month (the practice's time zone), it may go again.
    let next: chrono::NaiveDate = next.parse().unwrap();
    let next_start = next.and_hms_opt(12, 0, 0).unwrap().and_utc();
    app.clock.advance(next_start - app.clock_now());
    let manager = app.login("reinvite", "mgr").await;
    assert_eq!(app.staff_post(&manager, "/clients/reinvite-all", None).await.0, 200);

    let staff = {
        app.staff(&fixture.practice, "desk", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
        app.login("reinvite", "desk").await
    };
    assert_eq!(app.staff_post(&staff, "/clients/reinvite-all", None).await.0, 403);
}

#[tokio::test]
async fn the_users_list_sorts_searches_pages_and_exports() {
    let app = spawn_app().await;
    let fixture = app.practice("listing").await;
    let key = app.sync_key(&fixture.practice).await;
    let admin = app.login("listing", "admin").await;
    let now = app.clock_now();
    let clients: Vec<Value> = (0..7)
        .map(|i| json!({
            "pms_id": format!("L{i}"), "updated_at": at(now, 0), "first_name": "Lou", "last_name": format!("Name{}", 7 - i),
            "email": format!("z{i}@example.com"), "phone": format!("303555010{i}"), "last_transaction_on": now.date_naive()
        }))
        .collect();
    let pets = json!([{ "pms_id": "LP", "updated_at": at(now, 0), "client_pms_id": "L3", "name": "Whiskers" }]);
    app.sync(&key, &json!({ "clients": clients, "pets": pets })).await;

    let mut seen = Vec::new();
    let mut path = "/api/dashboard/v1/clients?limit=3&sort=email&order=desc".to_owned();
    loop {
        let (status, page) = app.get_json(&path, &admin).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["items"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/dashboard/v1/clients?limit=3&sort=email&order=desc&after={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("z{i}@example.com")).collect();
    assert_eq!(seen, expected);

    let (_, by_name) = app.get_json("/api/dashboard/v1/clients?sort=name", &admin).await;
    assert_eq!(by_name["items"][0]["last_name"], "Name1");
    let (_, by_pet) = app.get_json("/api/dashboard/v1/clients?search=whisk", &admin).await;
    assert_eq!(by_pet["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_pet["items"][0]["email"], "z3@example.com");
    let (_, by_phone) = app.get_json("/api/dashboard/v1/clients?search=(303)%20555-0105", &admin).await;
    assert_eq!(by_phone["items"][0]["email"], "z5@example.com");
    // A personal note shows as an icon in the list; the log does not repeat it.
    let noted = by_pet["items"][0]["id"].as_str().unwrap();
    let response = app
        .client
        .put(app.url(&format!("/api/dashboard/v1/clients/{noted}/personal-note")))
        .bearer_auth(&admin)
        .json(&json!({ "note": "Whiskers is shy: use the quiet room" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["personal_note"], "Whiskers is shy: use the quiet room");
    let (_, by_pet) = app.get_json("/api/dashboard/v1/clients?search=whisk", &admin).await;
    assert_eq!(by_pet["items"][0]["has_personal_note"], true);
    let (_, log) = app.get_json("/api/dashboard/v1/activity?action=client.note_set", &admin).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert!(!log.to_string().contains("quiet room"), "{log}");
    let too_long = json!({ "note": "x".repeat(2001) });
    let response = app
        .client
        .put(app.url(&format!("/api/dashboard/v1/clients/{noted}/personal-note")))
        .bearer_auth(&admin)
        .json(&too_long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    let (_, none) = app.get_json("/api/dashboard/v1/clients?search=%25", &admin).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "a % is a character, not a wildcard");
    let (status, problem) = app.get_json("/api/dashboard/v1/clients?after=garbage", &admin).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("invalid_cursor")));

    let response = app
        .client
        .get(app.url("/api/dashboard/v1/clients/export.csv?sort=name"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 8, "{csv}");
    assert!(lines[0].starts_with("Last name,First name,Email"));
    // A leading + would make a spreadsheet read the phone as a formula: it opens as text.
    assert!(lines[1].starts_with("Name1,Lou,z6@example.com,'+13035550106"), "{csv}");
}

#[tokio::test]
async fn view_details_page_shows_the_past_due_reminder_and_keeps_a_personal_note() {
    let app = spawn_app().await;
    let fixture = app.practice("details").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let today = now.date_naive();
    app.sync(
        &key,
        &json!({
            "clients": [{ "pms_id": "D1", "updated_at": at(now, 0), "first_name": "Dee", "last_name": "Tail", "email": "dee@example.com", "last_transaction_on": today }],
            "pets": [{ "pms_id": "DP1", "updated_at": at(now, 0), "client_pms_id": "D1", "name": "Mochi", "species": "Cat" }],
            "reminders": [{ "pms_id": "DR1", "updated_at": at(now, 0), "client_pms_id": "D1", "pet_pms_id": "DP1", "service": "FVRCP booster", "due_on": today - Duration::days(2) }]
        }),
    )
    .await;
    // Two days back: past due in the practice's zone (Denver) at any UTC hour.
    let admin = app.login("details", "admin").await;
    let id = row(&app, &admin, "dee@example.com").await.unwrap()["id"].as_str().unwrap().to_owned();

    let session = app.page_login("details", "admin").await;
    let page = |path: String| {
        let session = session.clone();
        let client = app.client.clone();
        let url = app.url(&path);
        async move {
            client
                .get(url)
                .header("cookie", format!("pb_session={session}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page(format!("/dashboard/clients/{id}")).await;
    assert!(html.contains("Mochi&#39;s FVRCP booster is past due"), "{html}");
    let csrf = petbridge_tests::hidden_field(&html, "csrf");
    let (status, _) = app
        .page_api(
            &session,
            &csrf,
            Method::PUT,
            &format!("/clients/{id}/personal-note"),
            json!({ "note": "Prefers texts after 5 pm" }),
        )
        .await;
    assert_eq!(status, 200);
    let html = page(format!("/dashboard/clients/{id}")).await;
    assert!(html.contains("Prefers texts after 5 pm") && html.contains("data-role=\"note-icon\""), "{html}");
    let list = page("/dashboard/clients".to_owned()).await;
    assert!(list.contains("data-role=\"note-icon\""), "the list marks the note");
    let (forged, _) = app
        .page_api(&session, "forged", Method::PUT, &format!("/clients/{id}/personal-note"), json!({ "note": "x" }))
        .await;
    assert_eq!(forged, 403);
}
