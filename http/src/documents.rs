//! The API documents as clients read them. poem-openapi writes OpenAPI 3.0,
//! in which an optional field cannot say that it may be `null`, a described
//! field of an enum or object type becomes an `allOf` that generators
//! refuse, a date is `naive-date`, and every operation lists every error
//! status. [`truthful`] rewrites a document into OpenAPI 3.1, where each of
//! these can be said as the server behaves.

use std::collections::HashSet;

use poem::{
    Endpoint,
    endpoint::make_sync,
    web::{Html, WithContentType},
};
use poem_openapi::{OpenApi, OpenApiService, Webhook};
use serde_json::{Map, Value, json};

/// An API's truthful document, as served: its JSON and its Swagger UI.
pub struct Published {
    /// The document.
    pub document: Value,
    json: String,
    ui: String,
}

impl Published {
    /// The truthful document of `service` (see [`truthful`]).
    pub fn of<T: OpenApi, W: Webhook>(service: &OpenApiService<T, W>, overridable: bool) -> Self {
        let spec = service.spec();
        let document = truthful(&spec, overridable);
        let json = serde_json::to_string_pretty(&document).unwrap_or_default();
        // poem-openapi's Swagger UI embeds the document it is given: this
        // one takes the truthful document in its place.
        let ui = service.swagger_ui_html().replacen(&spec, &json, 1);
        Self { document, json, ui }
    }

    /// `GET …/openapi.json`.
    pub fn json_endpoint(&self) -> impl Endpoint<Output = WithContentType<String>> + use<> {
        let json = self.json.clone();
        make_sync(move |_| poem::IntoResponse::with_content_type(json.clone(), "application/json; charset=utf-8"))
    }

    /// `GET …/docs`: Swagger UI on the document.
    pub fn ui_endpoint(&self) -> impl Endpoint<Output = Html<String>> + use<> {
        let ui = self.ui.clone();
        make_sync(move |_| Html(ui.clone()))
    }
}

/// Keys that describe a schema without constraining it: what poem-openapi
/// puts beside a `$ref` in its `allOf`.
const ANNOTATIONS: &[&str] = &["description", "title", "default", "example", "readOnly", "writeOnly", "deprecated"];

/// `spec`, poem-openapi's OpenAPI 3.0 JSON, as OpenAPI 3.1 that says what
/// the server does. `overridable`: its signed-in operations take a
/// manager's override, whose throttle may answer 429.
pub fn truthful(spec: &str, overridable: bool) -> Value {
    let mut document: Value = serde_json::from_str(spec).unwrap_or_default();
    document["openapi"] = json!("3.1.0");
    if let Some(schemas) =
        document.get_mut("components").and_then(|c| c.get_mut("schemas")).and_then(Value::as_object_mut)
    {
        schemas.values_mut().for_each(rewrite);
    }
    // `get_mut`, never `[…]` on a `&mut Value`: indexing would add the key.
    for item in
        document.get_mut("paths").and_then(Value::as_object_mut).into_iter().flat_map(|paths| paths.values_mut())
    {
        for (method, operation) in item.as_object_mut().into_iter().flatten() {
            let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten();
            parameters.filter_map(|parameter| parameter.get_mut("schema")).for_each(rewrite);
            contents(operation.get_mut("requestBody"))
                .filter_map(|content| content.get_mut("schema"))
                .for_each(rewrite);
            let responses = operation.get_mut("responses").and_then(Value::as_object_mut);
            for response in responses.into_iter().flat_map(|responses| responses.values_mut()) {
                contents(Some(response)).filter_map(|content| content.get_mut("schema")).for_each(rewrite);
            }
            keep_possible_statuses(method, operation, overridable);
        }
    }
    document
}

fn contents(holder: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    holder
        .and_then(|holder| holder.get_mut("content"))
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|content| content.values_mut())
}

fn rewrite(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    unwrap_described_reference(object);
    if object.get("format").and_then(Value::as_str) == Some("naive-date") {
        object.insert("format".into(), json!("date"));
    }
    let required: HashSet<String> = object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties {
            rewrite(property);
            // poem-openapi writes an absent `Option` as `null`, and reads
            // `null` as absent.
            if !required.contains(name) {
                allow_null(property);
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = object.get_mut(key) {
            rewrite(inner);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for part in object.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
            rewrite(part);
        }
    }
}

/// `{"allOf": [{"$ref": …}, {"description": …}]}` becomes `{"$ref": …,
/// "description": …}`, which OpenAPI 3.1 allows and generators read.
fn unwrap_described_reference(object: &mut Map<String, Value>) {
    let Some(parts) = object.get("allOf").and_then(Value::as_array) else { return };
    let Some(reference) = parts.first().and_then(|first| first.get("$ref")).cloned() else { return };
    let annotations_only = parts[1..]
        .iter()
        .all(|part| part.as_object().is_some_and(|part| part.keys().all(|key| ANNOTATIONS.contains(&key.as_str()))));
    if !annotations_only {
        return;
    }
    let annotations: Vec<(String, Value)> =
        parts[1..].iter().filter_map(Value::as_object).flat_map(|part| part.clone()).collect();
    object.remove("allOf");
    object.insert("$ref".into(), reference);
    for (key, value) in annotations {
        object.entry(key).or_insert(value);
    }
}

fn allow_null(property: &mut Value) {
    let Some(object) = property.as_object_mut() else { return };
    if let Some(reference) = object.remove("$ref") {
        object.insert("anyOf".into(), json!([{ "$ref": reference }, { "type": "null" }]));
    } else if let Some(Value::String(kind)) = object.get("type").cloned() {
        object.insert("type".into(), json!([kind, "null"]));
        if let Some(values) = object.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
}

/// Drops the error statuses an operation cannot answer, from what it takes:
/// only what reads a body or parameters can refuse them (400, 413, 415,
/// 422); only what needs credentials, or takes them in its body (a sign-in,
/// a token), answers 401, and only what needs them answers 403; only what
/// names a record answers 404; only a change can clash with the current
/// state (409); only a sign-in or a manager's override meets a throttle
/// (429). Anything may fail on our side (500).
fn keep_possible_statuses(method: &str, operation: &mut Value, overridable: bool) {
    let takes_body = operation.get("requestBody").is_some();
    let parameters: Vec<&str> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|parameter| parameter["in"].as_str())
        .collect();
    let names_a_record = parameters.contains(&"path") || takes_body;
    let reads_input = takes_body || !parameters.is_empty();
    let needs_credentials = operation["security"].as_array().is_some_and(|schemes| !schemes.is_empty());
    let changes = method != "get";
    let signs_in = takes_body && !needs_credentials;
    let throttled = if needs_credentials { overridable } else { signs_in };
    let Some(responses) = operation["responses"].as_object_mut() else { return };
    responses.retain(|status, _| match status.as_str() {
        "400" | "422" => reads_input,
        "413" | "415" => takes_body,
        "401" => needs_credentials || signs_in,
        "403" => needs_credentials,
        "404" => names_a_record,
        "409" => changes,
        "429" => throttled,
        _ => true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_may_be_null_and_described_references_are_plain() {
        let spec = json!({
            "openapi": "3.0.0",
            "paths": {},
            "components": { "schemas": {
                "Level": { "type": "string", "enum": ["staff", "manager"] },
                "User": {
                    "type": "object",
                    "required": ["name", "level"],
                    "properties": {
                        "name": { "type": "string" },
                        "level": { "allOf": [{ "$ref": "#/components/schemas/Level" }, { "description": "Its level." }] },
                        "email": { "type": "string" },
                        "born": { "type": "string", "format": "naive-date" },
                        "boss": { "$ref": "#/components/schemas/Level" }
                    }
                }
            }}
        });
        let document = truthful(&spec.to_string(), false);
        let user = &document["components"]["schemas"]["User"]["properties"];
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(user["name"], json!({ "type": "string" }));
        assert_eq!(user["level"], json!({ "$ref": "#/components/schemas/Level", "description": "Its level." }));
        assert_eq!(user["email"]["type"], json!(["string", "null"]));
        assert_eq!(user["born"], json!({ "type": ["string", "null"], "format": "date" }));
        assert_eq!(user["boss"]["anyOf"], json!([{ "$ref": "#/components/schemas/Level" }, { "type": "null" }]));
    }

    #[test]
    fn an_operation_keeps_only_the_statuses_it_can_answer() {
        let every = |success: &str| {
            let mut responses = Map::new();
            for status in [success, "400", "401", "403", "404", "409", "413", "415", "422", "429", "500"] {
                responses.insert(status.into(), json!({ "description": status }));
            }
            Value::Object(responses)
        };
        let spec = json!({
            "openapi": "3.0.0",
            "paths": {
                "/practice": { "get": { "responses": every("200") } },
                "/users/{id}": { "patch": {
                    "security": [{ "StaffBearer": [] }],
                    "parameters": [{ "in": "path", "name": "id" }],
                    "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } },
                    "responses": every("200")
                }}
            }
        });
        let document = truthful(&spec.to_string(), true);
        let statuses = |path: &str, method: &str| -> Vec<String> {
            document["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(statuses("/practice", "get"), ["200", "500"]);
        assert_eq!(
            statuses("/users/{id}", "patch"),
            ["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500"]
        );
    }
}
