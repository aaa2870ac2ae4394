use petbridge_tests::spawn_app;
use serde_json::Value;

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
    }
    let index = app.client.get(app.url("/docs")).send().await.unwrap().text().await.unwrap();
    for api in ["app", "dashboard", "sync"] {
        assert!(index.contains(&format!("/api/{api}/v1/docs")), "/docs links the {api} docs");
    }
}
