use petbridge_tests::spawn_app;

fn assert_problem(response: &reqwest::Response) {
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_problem_json() {
    let app = spawn_app().await;
    let limit = app.settings.server.body_limit_bytes;
    let big = vec![b' '; limit + 1];

    // Announced by Content-Length.
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/login"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_problem(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    assert_eq!(body["status"], 413);

    // Streamed without a length.
    let chunks = futures_util::stream::iter(
        big.chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_problem(&response);

    // Just under the limit is parsed (and rejected for what it says, not its size).
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; limit - 1])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn errors_are_problem_json_with_stable_codes_and_request_ids() {
    let app = spawn_app().await;

    let response =
        app.client.get(app.url("/api/app/v1/no-such-thing")).header("x-request-id", "req-123").send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_problem(&response);
    assert_eq!(response.headers()["x-request-id"], "req-123");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "not_found");

    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_problem(&response);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "method_not_allowed");

    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_problem(&response);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "bad_request");

    let response = app.client.get(app.url("/api/dashboard/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_problem(&response);

    let token = {
        let fixture = app.practice("errors-clinic").await;
        app.login(&fixture.practice.slug, &fixture.admin).await
    };
    let (status, body) = app.get_json("/api/dashboard/v1/deliveries?limit=0", &token).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "invalid_limit");
    let (status, body) = app.get_json("/api/dashboard/v1/deliveries?after=garbage", &token).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "invalid_cursor");
}

#[tokio::test]
async fn a_method_a_documented_path_does_not_take_answers_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/api/app/v1/me", "GET"),
        (reqwest::Method::DELETE, "/api/dashboard/v1/clients", "GET"),
        (reqwest::Method::GET, "/api/sync/v1/batches", "POST"),
    ] {
        let response = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "method_not_allowed");
    }
}
