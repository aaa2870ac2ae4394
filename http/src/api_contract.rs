//! What the API documents promise, held to. poem-openapi reads a JSON
//! number or boolean where a string is declared as that text (`"email":
//! true` would arrive as `"true"`); here every JSON body is checked against
//! the schema its operation declares before any handler sees it, so a value
//! of the wrong type is a 400 that names the field. Text from people is
//! checked too ([`check_text`]): control characters and stacks of
//! combining marks are a 422 naming the field. A method a documented path
//! does not take answers 405 with `Allow` listing those it does.

use std::sync::Arc;

use petbridge_domain::{
    Code,
    kernel::text::{TextProblem, check_text},
};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderValue, Method, StatusCode, header},
};
use serde_json::{Map, Value};

use crate::problem_response;

/// One documented operation: its method, path and JSON body schema.
struct Operation {
    method: Method,
    /// The path's segments; `None` stands for a `{parameter}`.
    segments: Vec<Option<String>>,
    /// The JSON request body's schema, when it takes one.
    schema: Option<Value>,
}

impl Operation {
    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(want, got)| want.as_deref().is_none_or(|w| w == *got))
    }
}

/// The API documents whose promises are held to.
#[derive(Clone, Default)]
pub struct ApiContract {
    apis: Vec<Arc<Api>>,
}

struct Api {
    components: Map<String, Value>,
    operations: Vec<Operation>,
    /// Whether strings are checked as people's text as well as for type.
    people_text: bool,
}

impl ApiContract {
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
                let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
                let full = format!("{}{path}", prefix.trim_end_matches('/'));
                let segments =
                    full.split('/').map(|s| if s.starts_with('{') { None } else { Some(s.to_owned()) }).collect();
                operations.push(Operation { method, segments, schema: json_body.cloned().map(Value::Object) });
            }
        }
        self.apis.push(Arc::new(Api { components, operations, people_text }));
        self
    }

    /// The API and body schema of the operation `method` `path` names, if it takes a JSON body.
    fn body_schema(&self, method: &Method, path: &str) -> Option<(&Api, &Value)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.apis.iter().map(Arc::as_ref).find_map(|api| {
            api.operations
                .iter()
                .find(|op| op.method == method && op.matches(&segments))
                .and_then(|op| op.schema.as_ref())
                .map(|schema| (api, schema))
        })
    }

    /// The methods the documents give `path`, as an `Allow` header says them.
    fn allowed(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<&str> = self
            .apis
            .iter()
            .flat_map(|api| api.operations.iter())
            .filter(|op| op.matches(&segments))
            .map(|op| op.method.as_str())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        (!methods.is_empty()).then(|| methods.join(", "))
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

impl<E: Endpoint> Middleware<E> for ApiContract {
    type Output = ApiContractEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ApiContractEndpoint { inner, contract: self.clone() }
    }
}

/// The endpoint [`ApiContract`] wraps.
pub struct ApiContractEndpoint<E> {
    inner: E,
    contract: ApiContract,
}

impl<E: Endpoint> Endpoint for ApiContractEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        // Kept for a 405's `Allow` (a Uri clone shares its bytes, so a request pays no copy).
        let uri = req.uri().clone();
        if let (true, Some((api, schema))) = (json, self.contract.body_schema(req.method(), uri.path())) {
            let bytes = req.take_body().into_bytes().await?;
            // A body that is not JSON at all is poem-openapi's to refuse.
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                match api.check(&value, schema, "") {
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
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            // The router's 405: answered here, as problem+json, to add `Allow`.
            Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => crate::to_problem(err).await,
            Err(err) => return Err(err),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.contract.allowed(uri.path()).and_then(|a| HeaderValue::from_str(&a).ok())
        {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        Ok(response)
    }
}
