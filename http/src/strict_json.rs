//! Request bodies held to the API document. poem-openapi reads a JSON
//! number or boolean where a string is declared as that text (`"email":
//! true` would arrive as `"true"`); here every JSON body is checked against
//! the schema its operation declares before any handler sees it, so a value
//! of the wrong type is a 400 that names the field. Text from people is
//! checked too ([`check_text`]): control characters and stacks of
//! combining marks are a 422 naming the field.

use petbridge_domain::Code;
use std::sync::Arc;

use petbridge_domain::types::{TextProblem, check_text};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{Method, header},
};
use serde_json::{Map, Value};

use crate::problem_response;

/// One operation's request body schema, found by method and path.
struct Operation {
    method: Method,
    /// The path's segments; `None` stands for a `{parameter}`.
    segments: Vec<Option<String>>,
    schema: Value,
}

/// The API documents whose request bodies are checked.
#[derive(Clone, Default)]
pub struct StrictJson {
    apis: Vec<Arc<Api>>,
}

struct Api {
    components: Map<String, Value>,
    operations: Vec<Operation>,
    /// Whether strings are checked as people's text as well as for type.
    people_text: bool,
}

impl StrictJson {
    /// Adds the API served under `prefix` (e.g. `/api/app/v1`) from its
    /// OpenAPI document. With `people_text`, string values must also pass
    /// [`check_text`] (the owner and staff APIs; the PMS's records are
    /// checked record by record instead).
    pub fn with_api(mut self, prefix: &str, spec: &str, people_text: bool) -> Self {
        let spec: Value = serde_json::from_str(spec).unwrap_or_default();
        let components = spec["components"]["schemas"].as_object().cloned().unwrap_or_default();
        let mut operations = Vec::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let json_body = operation["requestBody"]["content"]
                    .as_object()
                    .and_then(|content| content.iter().find(|(kind, _)| kind.starts_with("application/json")))
                    .and_then(|(_, body)| body["schema"].as_object());
                let (Ok(method), Some(schema)) = (method.to_uppercase().parse::<Method>(), json_body) else {
                    continue;
                };
                let full = format!("{}{path}", prefix.trim_end_matches('/'));
                let segments =
                    full.split('/').map(|s| if s.starts_with('{') { None } else { Some(s.to_owned()) }).collect();
                operations.push(Operation { method, segments, schema: Value::Object(schema.clone()) });
            }
        }
        self.apis.push(Arc::new(Api { components, operations, people_text }));
        self
    }

    fn find(&self, method: &Method, path: &str) -> Option<(&Api, &Operation)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.apis.iter().map(Arc::as_ref).find_map(|api| {
            api.operations
                .iter()
                .find(|op| {
                    op.method == method
                        && op.segments.len() == segments.len()
                        && op
                            .segments
                            .iter()
                            .zip(&segments)
                            .all(|(want, got)| want.as_deref().is_none_or(|w| w == *got))
                })
                .map(|op| (api, op))
        })
    }
}

/// Why a value does not fit its schema.
enum Misfit {
    /// Another JSON type than declared (400).
    Type { field: String, expected: &'static str, got: &'static str },
    /// Text that may not be stored (422).
    Text { field: String, problem: TextProblem },
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn field_name(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Api {
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => self.components.get(name).map_or(schema, |found| self.resolve(found)),
            None => schema,
        }
    }

    fn check(&self, value: &Value, schema: &Value, path: &str) -> Result<(), Misfit> {
        let schema = self.resolve(schema);
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.check(value, part, path)?;
        }
        if value.is_null() {
            return Ok(());
        }
        match (schema["type"].as_str(), value) {
            (Some("string"), Value::String(text)) => {
                if self.people_text
                    && let Err(problem) = check_text(text)
                {
                    return Err(Misfit::Text { field: path.to_owned(), problem });
                }
            }
            (Some("string"), other) => {
                return Err(Misfit::Type { field: path.to_owned(), expected: "a string", got: kind(other) });
            }
            (Some("boolean"), other) if !other.is_boolean() => {
                return Err(Misfit::Type { field: path.to_owned(), expected: "a boolean", got: kind(other) });
            }
            (Some("integer" | "number"), other) if !other.is_number() => {
                return Err(Misfit::Type { field: path.to_owned(), expected: "a number", got: kind(other) });
            }
            (Some("array"), Value::Array(items)) => {
                for (n, item) in items.iter().enumerate() {
                    self.check(item, &schema["items"], &format!("{path}[{n}]"))?;
                }
            }
            (_, Value::Object(fields)) => {
                for (key, field) in fields {
                    if let Some(declared) = schema["properties"].get(key) {
                        self.check(field, declared, &field_name(path, key))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl<E: Endpoint> Middleware<E> for StrictJson {
    type Output = StrictJsonEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        StrictJsonEndpoint { inner, strict: self.clone() }
    }
}

/// The endpoint [`StrictJson`] wraps.
pub struct StrictJsonEndpoint<E> {
    inner: E,
    strict: StrictJson,
}

impl<E: Endpoint> Endpoint for StrictJsonEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if let (true, Some((api, operation))) = (json, self.strict.find(req.method(), req.uri().path())) {
            let bytes = req.take_body().into_bytes().await?;
            // A body that is not JSON at all is poem-openapi's to refuse.
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                match api.check(&value, &operation.schema, "") {
                    Ok(()) => {}
                    Err(Misfit::Type { field, expected, got }) => {
                        let detail = format!("`{field}` must be {expected}, not {got}");
                        return Ok(problem_response(Code::InvalidType, Some(detail)));
                    }
                    Err(Misfit::Text { field, problem }) => {
                        let detail = format!("`{field}` {}", problem.explanation());
                        return Ok(problem_response(problem.code(), Some(detail)));
                    }
                }
            }
            req.set_body(bytes);
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
