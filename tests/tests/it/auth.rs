use chrono::Duration;
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{PASSWORD, hidden_field, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn login_gives_a_token_that_reads_own_practice_and_wrong_details_all_look_alike() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;

    let token = app.login("maple-vets", "admin").await;
    let (status, me) = app.get_json("/api/dashboard/v1/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["practice"]["id"], fixture.practice.id.to_string());
    assert_eq!(me["practice"]["name"], "maple-vets Veterinary Clinic");
    assert_eq!(me["staff"]["username"], "admin");
    assert_eq!(me["staff"]["level"], "administrator");

    let wrong_password = app.login_attempt("maple-vets", "admin", "not the password at all").await;
    let unknown_user = app.login_attempt("maple-vets", "nobody", PASSWORD).await;
    let unknown_practice = app.login_attempt("no-such-practice", "admin", PASSWORD).await;
    for (status, body) in [&wrong_password, &unknown_user, &unknown_practice] {
        assert_eq!(*status, 401);
        assert_eq!(body["code"], "invalid_credentials");
    }
    assert_eq!(wrong_password.1, unknown_user.1, "the answer never says which part was wrong");
    assert_eq!(unknown_user.1, unknown_practice.1);
}

#[tokio::test]
async fn another_practices_records_answer_404() {
    let app = spawn_app().await;
    let maple = app.practice("maple-vets").await;
    let birch = app.practice("birch-animal-care").await;
    let birch_tech = app.staff(&birch.practice, "tech", SecurityLevel::Staff).await;
    let maple_tech = app.staff(&maple.practice, "tech", SecurityLevel::Staff).await;

    let maple_token = app.login("maple-vets", "admin").await;
    let birch_token = app.login("birch-animal-care", "admin").await;

    let (status, own) = app.get_json(&format!("/api/dashboard/v1/staff/{maple_tech}"), &maple_token).await;
    assert_eq!(status, 200);
    assert_eq!(own["username"], "tech");
    let (status, body) = app.get_json(&format!("/api/dashboard/v1/staff/{birch_tech}"), &maple_token).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");

    // Creating the tech queued an account email in Birch's outbox; Maple cannot see it.
    let (_, birch_outbox) = app.get_json("/api/dashboard/v1/deliveries", &birch_token).await;
    let birch_delivery = birch_outbox["items"][0]["id"].as_str().expect("Birch has a delivery").to_owned();
    let (status, _) = app.get_json(&format!("/api/dashboard/v1/deliveries/{birch_delivery}"), &maple_token).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&format!("/api/dashboard/v1/deliveries/{birch_delivery}"), &birch_token).await;
    assert_eq!(status, 200);
    let (_, maple_outbox) = app.get_json("/api/dashboard/v1/deliveries", &maple_token).await;
    assert!(
        maple_outbox["items"].as_array().unwrap().iter().all(|d| d["id"] != birch_delivery.as_str()),
        "Maple's list holds only Maple's deliveries"
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let token = app.login("maple-vets", "admin").await;
    let response = app.client.post(app.url("/api/dashboard/v1/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = app.get_json("/api/dashboard/v1/me", &token).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "session_invalid");
}

#[tokio::test]
async fn a_session_idle_too_long_ends_and_each_use_restarts_the_wait() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let token = app.login("maple-vets", "admin").await;
    app.clock.advance(Duration::minutes(90));
    assert_eq!(app.get_json("/api/dashboard/v1/me", &token).await.0, 200, "used within the idle limit");
    app.clock.advance(Duration::minutes(90));
    assert_eq!(app.get_json("/api/dashboard/v1/me", &token).await.0, 200, "each use restarts the idle limit");
    app.clock.advance(Duration::minutes(121));
    assert_eq!(app.get_json("/api/dashboard/v1/me", &token).await.0, 401, "idle too long");
}

#[tokio::test]
async fn a_session_in_constant_use_still_ends_at_the_absolute_limit() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let token = app.login("maple-vets", "admin").await;
    for _ in 0..8 {
        app.clock.advance(Duration::minutes(100));
        let _ = app.get_json("/api/dashboard/v1/me", &token).await;
    }
    assert_eq!(app.get_json("/api/dashboard/v1/me", &token).await.0, 401, "past the absolute limit");
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_write() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;

    // Log in through the page, as a browser does.
    let response = app.submit_login(&app.client, "maple-vets", "admin", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/dashboard");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("pb_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag ({cookie})");

    // The cookie reads the API…
    let me = app.client.get(app.url("/api/dashboard/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
    // …but cannot write without the CSRF token…
    let response = app.client.post(app.url("/api/dashboard/v1/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "csrf_failed");
    // …which the page carries.
    let page = app.client.get(app.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    let session_csrf = hidden_field(&page, "csrf");
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/logout"))
        .header("x-csrf-token", session_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app.client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), 303, "logged out: back to the login page");
}

#[tokio::test]
async fn the_login_form_refuses_a_post_without_its_csrf_token_and_hides_which_part_was_wrong() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;

    let response = app
        .client
        .post(app.url("/login"))
        .form(&[("practice", "maple-vets"), ("username", "admin"), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("login form expired"));

    let response = app.submit_login(&app.client, "maple-vets", "admin", "wrong password here").await;
    assert_eq!(response.status(), 401);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("don&#39;t match an active account") || page.contains("don't match an active account"),
        "{page}"
    );
    assert!(!page.contains("password is wrong") && !page.contains("no such user"));
}
