use chrono::Duration;
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app.client.post(app.url(&format!("/api/dashboard/v1{path}"))).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn password_login(app: &TestApp) -> Value {
    let (status, body) = post(
        app,
        "/auth/login",
        None,
        json!({ "practice": "maple-vets", "username": "drsmith", "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn two_factor_login_with_app_codes_and_one_time_recovery_codes() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "drsmith", SecurityLevel::Staff).await;
    let token = app.login("maple-vets", "drsmith").await;

    let (status, setup) = post(&app, "/me/two-factor", Some(&token), json!({})).await;
    assert_eq!(status, 200);
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(setup["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"), "{setup}");

    let (status, body) = post(&app, "/me/two-factor/confirm", Some(&token), json!({ "code": "000000" })).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("wrong_code")));
    let (status, body) =
        post(&app, "/me/two-factor/confirm", Some(&token), json!({ "code": app.totp_code(&secret) })).await;
    assert_eq!(status, 200);
    let recovery: Vec<String> =
        body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(recovery.len(), 10);

    // The password alone no longer signs in.
    let first = password_login(&app).await;
    assert_eq!(first["second_factor_required"], true);
    let pending = first["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_json("/api/dashboard/v1/me", &pending).await.0, 401);
    // The code that confirmed enrolment cannot be replayed.
    let (status, body) =
        post(&app, "/auth/second-factor", None, json!({ "token": pending, "code": app.totp_code(&secret) })).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("invalid_code")));
    app.clock.advance(Duration::seconds(30));
    let (status, done) =
        post(&app, "/auth/second-factor", None, json!({ "token": pending, "code": app.totp_code(&secret) })).await;
    assert_eq!(status, 200);
    assert_eq!(done["second_factor_required"], false);
    assert_eq!(app.get_json("/api/dashboard/v1/me", &pending).await.0, 200);

    // A recovery code works once.
    let second = password_login(&app).await;
    let (status, _) =
        post(&app, "/auth/second-factor", None, json!({ "token": second["token"], "code": recovery[0] })).await;
    assert_eq!(status, 200);
    let third = password_login(&app).await;
    let (status, _) =
        post(&app, "/auth/second-factor", None, json!({ "token": third["token"], "code": recovery[0] })).await;
    assert_eq!(status, 401);

    // Five wrong codes abandon the login, even for a right sixth.
    let fourth = password_login(&app).await;
    for _ in 0..5 {
        post(&app, "/auth/second-factor", None, json!({ "token": fourth["token"], "code": "123456" })).await;
    }
    app.clock.advance(Duration::seconds(30));
    let (status, _) =
        post(&app, "/auth/second-factor", None, json!({ "token": fourth["token"], "code": app.totp_code(&secret) }))
            .await;
    assert_eq!(status, 401);

    // Turning it off needs the password.
    let session = done["token"].as_str().unwrap();
    let (status, _) = post(&app, "/me/two-factor/disable", Some(session), json!({ "password": "not it" })).await;
    assert_eq!(status, 422);
    let (status, _) = post(&app, "/me/two-factor/disable", Some(session), json!({ "password": PASSWORD })).await;
    assert_eq!(status, 204);
    assert_eq!(password_login(&app).await["second_factor_required"], false);
}

#[tokio::test]
async fn a_practice_can_require_two_factor_login_of_its_administrators() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "second-admin", SecurityLevel::Administrator).await;
    app.staff(&fixture.practice, "drsmith", SecurityLevel::Staff).await;
    let admin = app.login("maple-vets", "admin").await;
    let response = app
        .client
        .patch(app.url("/api/dashboard/v1/practice/settings"))
        .bearer_auth(&admin)
        .json(&json!({ "require_admin_two_factor": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["require_admin_two_factor"], true);

    // An administrator without it may set it up, and nothing else.
    let other = app.login("maple-vets", "second-admin").await;
    let (status, body) = app.get_json("/api/dashboard/v1/users", &other).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("two_factor_setup_required")));
    assert_eq!(app.get_json("/api/dashboard/v1/me", &other).await.0, 200);
    let (_, setup) = post(&app, "/me/two-factor", Some(&other), json!({})).await;
    let code = app.totp_code(setup["secret"].as_str().unwrap());
    assert_eq!(post(&app, "/me/two-factor/confirm", Some(&other), json!({ "code": code })).await.0, 200);
    assert_eq!(app.get_json("/api/dashboard/v1/users", &other).await.0, 200, "set up: free to go on");

    // Staff are not affected.
    let staff = app.login("maple-vets", "drsmith").await;
    assert_eq!(app.get_json("/api/dashboard/v1/deliveries", &staff).await.0, 200);
    let (status, body) = post(&app, "/practice/settings", Some(&admin), json!({})).await;
    assert_eq!(status, 405, "{body}");
    // The administrator who turned it on is held to it as well.
    let (status, _) = app.get_json("/api/dashboard/v1/users", &admin).await;
    assert_eq!(status, 403);
    let response = app
        .client
        .patch(app.url("/api/dashboard/v1/practice/settings"))
        .bearer_auth(&other)
        .json(&json!({ "lockout_threshold": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "invalid_lockout_threshold");
}
