use petbridge_tests::spawn_app;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let ready: serde_json::Value = app.client.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let expected_bus = if petbridge_tests::redis_url().is_some() { "redis" } else { "in-process" };
    assert_eq!(ready["bus"], expected_bus);

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(text.contains("area=\"pages\"") || text.contains("area=\""), "{text}");
}

/// Every `$ref` in the document points at a schema it defines.
fn assert_refs_resolve(name: &str, document: &Value) {
    fn walk(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(document, &mut refs);
    for target in refs {
        let schema =
            target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{name}: odd $ref {target}"));
        assert!(document["components"]["schemas"].get(schema).is_some(), "{name}: $ref {target} does not resolve");
    }
}

#[tokio::test]
async fn every_api_serves_a_valid_openapi_3_1_document_with_problem_errors() {
    let app = spawn_app().await;
    for api in ["app", "dashboard", "sync"] {
        let response = app.client.get(app.url(&format!("/api/{api}/v1/openapi.json"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{api}");
        let text = response.text().await.unwrap();
        let spec = oas3::from_json(&text).unwrap_or_else(|e| panic!("{api}: not OpenAPI 3.1: {e}"));
        assert_eq!(spec.openapi, "3.1.0", "{api}");
        let document: Value = serde_json::from_str(&text).unwrap();
        assert_refs_resolve(api, &document);
        // Every error code an answer may hold is documented, with its status.
        let description = spec.info.description.clone().unwrap_or_default();
        for code in petbridge_domain::Code::ALL {
            let row = format!("| `{code}` | {} | {} |", code.kind().status(), code.message());
            assert!(description.contains(&row), "{api}: the document does not list {code}");
        }
        let paths = document["paths"].as_object().expect("paths");
        assert!(!paths.is_empty(), "{api}: no operations");
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("a path item") {
                let label = format!("{api} {method} {path}");
                assert!(operation["operationId"].is_string(), "{label}: no operationId");
                let responses = operation["responses"].as_object().expect("responses");
                assert!(responses.keys().any(|s| s.starts_with('2')), "{label}: no success");
                assert!(responses.contains_key("500"), "{label}: does not declare 500");
                if operation.get("requestBody").is_some() {
                    for must in ["400", "413", "415", "422"] {
                        assert!(responses.contains_key(must), "{label}: takes a body but does not declare {must}");
                    }
                }
                for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('4') || s.starts_with('5')) {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{label}: {status} is not problem+json"
                    );
                }
            }
        }
        let docs = app.client.get(app.url(&format!("/api/{api}/v1/docs/"))).send().await.unwrap();
        assert_eq!(docs.status(), 200, "{api} interactive docs");
        let page = docs.text().await.unwrap();
        assert!(page.contains(r#""openapi": "3.1.0""#), "{api}: the interactive docs show another document");
    }
    let index = app.client.get(app.url("/docs")).send().await.unwrap().text().await.unwrap();
    for api in ["app", "dashboard", "sync"] {
        assert!(index.contains(&format!("/api/{api}/v1/docs")), "/docs links the {api} docs");
    }
}

async fn document(app: &petbridge_tests::TestApp, api: &str) -> Value {
    app.client.get(app.url(&format!("/api/{api}/v1/openapi.json"))).send().await.unwrap().json().await.unwrap()
}

/// A property of a component schema, as the document states it.
fn property<'a>(document: &'a Value, schema: &str, name: &str) -> &'a Value {
    let found = &document["components"]["schemas"][schema]["properties"][name];
    assert!(found.is_object(), "{schema}.{name} is not in the document");
    found
}

#[tokio::test]
async fn the_documents_state_the_limits_the_services_enforce() {
    use petbridge_domain::{
        chat::conversations,
        kernel::{paging, text},
        loyalty, notifications,
        owners::accounts,
        practices, requests,
        requests::Status,
        sea_orm::{ActiveEnum, Iterable},
        sync,
    };
    let app = spawn_app().await;
    let (owner_api, staff_api) = (document(&app, "app").await, document(&app, "dashboard").await);

    let body = property(&owner_api, "NewChatMessage", "body");
    assert_eq!(body["maxLength"], conversations::MAX_BODY_CHARS, "a chat message's length");
    let times = property(&owner_api, "NewAppointmentRequest", "preferred_times");
    assert_eq!(
        (&times["maxItems"], &times["items"]["maxLength"]),
        (&json!(requests::MAX_PREFERRED_TIMES), &json!(requests::MAX_TIME_CHARS))
    );
    assert_eq!(property(&owner_api, "SignUp", "email")["format"], "email");
    assert_eq!(property(&owner_api, "Device", "platform")["enum"], json!(accounts::DEVICE_PLATFORMS));
    let parameters = owner_api["paths"]["/notifications"]["get"]["parameters"].as_array().unwrap();
    let limit = parameters.iter().find(|p| p["name"] == "limit").expect("a limit parameter");
    assert_eq!(limit["schema"]["maximum"], json!(f64::from(paging::MAX_PAGE_SIZE)), "a page's size");
    let records = property(&document(&app, "sync").await, "SyncBatch", "clients")["maxItems"].clone();
    assert_eq!(records, json!(sync::MAX_BATCH_RECORDS));

    let title = property(&staff_api, "NotificationBody", "title");
    assert_eq!((&title["minLength"], &title["maxLength"]), (&json!(1), &json!(notifications::MAX_TITLE_CHARS)));
    let paws = property(&staff_api, "NewPaws", "paws");
    assert_eq!((&paws["minimum"], &paws["maximum"]), (&json!(1.0), &json!(f64::from(loyalty::MAX_PAWS_PER_ENTRY))));
    let threshold = property(&staff_api, "PracticeSettingsChanges", "lockout_threshold");
    assert_eq!(threshold["maximum"], json!(f64::from(*practices::LOCKOUT_THRESHOLDS.end())));
    assert_eq!(property(&staff_api, "NewUser", "username")["pattern"], text::Username::PATTERN);
    assert_eq!(property(&staff_api, "ClientUpdate", "phone")["pattern"], text::Phone::PATTERN);

    // Stored statuses are enums: one component each, with every stored name.
    let names: Vec<Value> = Status::iter().map(|s| json!(s.to_value())).collect();
    assert_eq!(staff_api["components"]["schemas"]["RequestStatus"]["enum"], json!(names));
    assert_eq!(property(&staff_api, "OwnerRequest", "status")["$ref"], "#/components/schemas/RequestStatus");
    assert_eq!(property(&staff_api, "RequestUpdate", "status")["enum"], json!(names), "the step a request takes");
    let account = property(&staff_api, "ClientRow", "account_status");
    assert_eq!(account["anyOf"], json!([{ "$ref": "#/components/schemas/AccountStatus" }, { "type": "null" }]));
    assert_eq!(property(&owner_api, "ConversationView", "status")["$ref"], "#/components/schemas/ConversationStatus");
}

#[tokio::test]
async fn a_stated_limit_is_enforced_at_the_limit_and_one_past_it() {
    use petbridge_domain::chat::conversations::MAX_BODY_CHARS;
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    let send = |id: &str, length: usize| {
        let body = json!({ "client_message_id": id, "body": "x".repeat(length) });
        app.app_call(Method::POST, "/conversation/messages", Some(&owner), Some(body))
    };
    let (status, refused) = send("long", MAX_BODY_CHARS + 1).await;
    assert_eq!((status, refused["code"].clone()), (422, json!("invalid_message")));
    let (status, sent) = send("longest", MAX_BODY_CHARS).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["body"].as_str().map(str::len), Some(MAX_BODY_CHARS));
}
