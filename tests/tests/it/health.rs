use openapiv3::{OpenAPI, ReferenceOr};
use petbridge_tests::spawn_app;

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
fn assert_refs_resolve(name: &str, raw: &serde_json::Value, spec: &OpenAPI) {
    fn walk(value: &serde_json::Value, refs: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(raw, &mut refs);
    let schemas = spec.components.as_ref().map(|c| &c.schemas);
    for target in refs {
        let schema =
            target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{name}: odd $ref {target}"));
        assert!(schemas.is_some_and(|s| s.contains_key(schema)), "{name}: $ref {target} does not resolve");
    }
}

#[tokio::test]
async fn every_api_serves_a_valid_openapi_3_document_with_problem_errors() {
    let app = spawn_app().await;
    for api in ["app", "dashboard", "sync"] {
        let response = app.client.get(app.url(&format!("/api/{api}/v1/openapi.json"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{api}");
        let raw: serde_json::Value = response.json().await.unwrap();
        let spec: OpenAPI = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{api}: not OpenAPI 3: {e}"));
        assert!(spec.openapi.starts_with("3."), "{api}: version {}", spec.openapi);
        assert!(!spec.paths.paths.is_empty(), "{api}: no operations");
        assert_refs_resolve(api, &raw, &spec);
        // Every error code an answer may hold is documented, with its status.
        let description = spec.info.description.clone().unwrap_or_default();
        for code in petbridge_domain::Code::ALL {
            let row = format!("| `{code}` | {} | {} |", code.kind().status(), code.message());
            assert!(description.contains(&row), "{api}: the document does not list {code}");
        }
        for (path, item) in &spec.paths.paths {
            let ReferenceOr::Item(item) = item else { panic!("{api}{path}: path item is a reference") };
            for (method, operation) in item.iter() {
                let label = format!("{api} {method} {path}");
                assert!(operation.operation_id.is_some(), "{label}: no operationId");
                let statuses: Vec<String> = operation.responses.responses.keys().map(ToString::to_string).collect();
                for must in ["400", "404", "413", "422", "500"] {
                    assert!(statuses.contains(&must.to_string()), "{label}: does not declare {must}: {statuses:?}");
                }
                for (status, response) in &operation.responses.responses {
                    let code = status.to_string();
                    if code.starts_with('4') || code.starts_with('5') {
                        let ReferenceOr::Item(response) = response else { continue };
                        assert!(
                            response.content.contains_key("application/problem+json"),
                            "{label}: {code} is not problem+json"
                        );
                    }
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
