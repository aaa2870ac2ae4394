//! What the API documents promise, held to. poem-openapi reads a JSON
//! number or boolean where a string is declared as that text (`"email":
//! true` would arrive as `"true"`); here every JSON body is checked against
//! the schema its operation declares before any handler sees it, so a value
//! of the wrong type is a 400 that names the field. Text from people is
//! checked too ([`check_text`]): control characters and stacks of
//! combining marks are a 422 naming the field. A method a documented path
//! does not take answers 405 with `Allow` listing those it does. Where
//! answers are held to the document too (the tests, a staging server),
//! an answer of a status its operation does not declare, or whose body
//! breaks the declared schema, becomes a 500 that says how; so does a
//! success answered to a body that breaks a limit the document states
//! (the services enforce each one, so none may be accepted).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

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

/// One documented operation: its method, path, JSON body schema and answers.
struct Operation {
    method: Method,
    /// The path's segments; `None` stands for a `{parameter}`.
    segments: Vec<Option<String>>,
    /// The JSON request body's schema, when it takes one.
    schema: Option<Value>,
    /// The answers it declares, by status: their media types and schemas.
    answers: Map<String, Value>,
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
    /// Whether answers are held to the documents as well as requests.
    check_answers: bool,
}

struct Api {
    components: Map<String, Value>,
    operations: Vec<Operation>,
    /// Whether strings are checked as people's text as well as for type.
    people_text: bool,
    /// Answer validators by schema, built when an answer first needs one.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl ApiContract {
    /// Holds answers to the documents too: each costs a validation, so
    /// this is for the tests and a staging server.
    pub fn checking_answers(mut self, check: bool) -> Self {
        self.check_answers = check;
        self
    }

    /// Adds the API served under `prefix` (e.g. `/api/app/v1`) from its
    /// OpenAPI 3.1 document ([`crate::documents::truthful`]). With
    /// `people_text`, string values must also pass [`check_text`] (the
    /// owner and staff APIs; the PMS's records are checked record by record
    /// instead).
    pub fn with_api(mut self, prefix: &str, spec: &Value, people_text: bool) -> Self {
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
                let answers = operation["responses"].as_object().cloned().unwrap_or_default();
                operations.push(Operation { method, segments, schema: json_body.cloned().map(Value::Object), answers });
            }
        }
        let validators = Mutex::default();
        self.apis.push(Arc::new(Api { components, operations, people_text, validators }));
        self
    }

    /// The API and operation `method` `path` names.
    fn operation(&self, method: &Method, path: &str) -> Option<(&Api, &Operation)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.apis.iter().map(Arc::as_ref).find_map(|api| {
            api.operations.iter().find(|op| op.method == method && op.matches(&segments)).map(|op| (api, op))
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

    /// Checks the JSON types (and people's text) only: what poem-openapi
    /// would otherwise read wrong. The rest of the schema is its to hold.
    fn check(&self, value: &Value, schema: &Value, path: &str) -> Result<(), Misfit> {
        let schema = self.resolve(schema);
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.check(value, part, path)?;
        }
        if value.is_null() {
            return Ok(());
        }
        // A field that may be null: `anyOf` its type and null.
        for part in schema["anyOf"].as_array().into_iter().flatten().filter(|part| part["type"] != "null") {
            self.check(value, part, path)?;
        }
        // `type` is one name, or (where null is allowed) the name and "null".
        let declared = match &schema["type"] {
            Value::Array(names) => names.iter().filter_map(Value::as_str).find(|name| *name != "null"),
            name => name.as_str(),
        };
        match (declared, value) {
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
        let method = req.method().clone();
        let operation = self.contract.operation(&method, uri.path());
        let body_schema = operation.and_then(|(api, op)| op.schema.as_ref().map(|schema| (api, schema)));
        // Where answers are held, so are the limits a body breaks: the
        // services enforce them, so such a body must not be accepted.
        let mut broken_limits = None;
        if let (true, Some((api, schema))) = (json, body_schema) {
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
                if self.contract.check_answers {
                    broken_limits = api.misfits(schema, &value).ok().filter(|misfits| !misfits.is_empty());
                }
            }
            req.set_body(bytes);
        }
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            // The router's 405: answered here, as problem+json, to add `Allow`.
            Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => crate::to_problem(err).await,
            // An error answer is held to the document like any other.
            Err(err) if self.contract.check_answers && operation.is_some() => crate::to_problem(err).await,
            Err(err) => return Err(err),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = self.contract.allowed(uri.path()).and_then(|a| HeaderValue::from_str(&a).ok())
        {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        if let Some(misfits) = broken_limits.filter(|_| response.status().is_success()) {
            let why = format!("accepted a body that breaks its schema: {misfits}");
            tracing::error!(%method, path = uri.path(), %why, "an answer breaks its API document");
            return Ok(problem_response(Code::Internal, Some(format!("{method} {}: {why}", uri.path()))));
        }
        if let (true, Some((api, op))) = (self.contract.check_answers, operation) {
            return Ok(api.hold_answer(op, &method, uri.path(), response).await);
        }
        Ok(response)
    }
}

impl Api {
    /// `response` if the document declares its status and its body fits the
    /// declared schema; otherwise a 500 saying what does not fit.
    async fn hold_answer(&self, op: &Operation, method: &Method, path: &str, mut response: Response) -> Response {
        let status = response.status().as_u16().to_string();
        let broken = |why: String| {
            tracing::error!(%method, path, %why, "an answer breaks its API document");
            problem_response(Code::Internal, Some(format!("{method} {path}: {why}")))
        };
        let Some(declared) = op.answers.get(&status) else {
            return broken(format!("answered {status}, which its operation does not declare"));
        };
        let Some(media) = response.content_type().map(|ct| ct.split(';').next().unwrap_or_default().trim().to_owned())
        else {
            return match declared.get("content") {
                Some(_) => broken(format!("answered {status} with no body type, where the document declares one")),
                None => response,
            };
        };
        let declared_as = |kind: &String| kind.split(';').next().unwrap_or_default().trim() == media;
        let content = declared["content"].as_object().into_iter().flatten();
        let Some(schema) =
            content.into_iter().find(|(kind, _)| declared_as(kind)).map(|(_, content)| &content["schema"])
        else {
            return broken(format!("answered {status} as {media}, which the document does not declare"));
        };
        if !media.ends_with("json") {
            return response;
        }
        let bytes = match response.take_body().into_bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return broken(format!("the body could not be read: {err}")),
        };
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(body) => body,
            Err(err) => return broken(format!("the body is not JSON: {err}")),
        };
        match self.misfits(schema, &body) {
            Err(why) => return broken(why),
            Ok(misfits) if !misfits.is_empty() => {
                return broken(format!("the {status} body breaks its schema: {misfits}"));
            }
            Ok(_) => {}
        }
        response.set_body(bytes);
        response
    }

    /// How `value` breaks `schema`, said for people; empty when it fits.
    fn misfits(&self, schema: &Value, value: &Value) -> Result<String, String> {
        let validator = self.validator(schema)?;
        let misfits: Vec<String> =
            validator.iter_errors(value).map(|error| format!("{} at `{}`", error, error.instance_path())).collect();
        Ok(misfits.join("; "))
    }

    /// A validator for `schema` with the document's components beside it,
    /// which its `$ref`s name.
    fn validator(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key = schema.to_string();
        let mut validators = self.validators.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = validators.get(&key) {
            return Ok(found.clone());
        }
        let root = serde_json::json!({ "components": { "schemas": self.components }, "allOf": [schema] });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|err| format!("the document's schema does not compile: {err}"))?;
        let validator = Arc::new(validator);
        validators.insert(key, validator.clone());
        Ok(validator)
    }
}

#[cfg(test)]
mod tests {
    use poem::{EndpointExt, Route};
    use poem_openapi::{Object, OpenApi, OpenApiService, payload::Json};
    use serde_json::json;

    use super::*;
    use crate::{documents::truthful, fields::Text};

    #[derive(Object)]
    struct Note {
        text: Text<0, 3>,
    }

    struct Notes;

    #[OpenApi]
    impl Notes {
        /// States a limit and, wrongly, takes any note.
        #[oai(path = "/notes", method = "post")]
        async fn take(&self, _note: Json<Note>) {}
    }

    async fn post(text: &str, check_answers: bool) -> StatusCode {
        let service = OpenApiService::new(Notes, "notes", "1");
        let document = truthful(&service.spec(), false);
        let contract = ApiContract::default().checking_answers(check_answers).with_api("/", &document, true);
        let app = Route::new().nest("/", service).with(contract);
        let request = Request::builder()
            .method(Method::POST)
            .uri(poem::http::Uri::from_static("/notes"))
            .content_type("application/json")
            .body(json!({ "text": text }).to_string());
        app.call(request).await.map_or_else(|err| err.status(), |response| response.status())
    }

    #[tokio::test]
    async fn a_body_past_a_stated_limit_must_not_be_accepted_where_answers_are_held() {
        assert_eq!(post("abc", true).await, StatusCode::OK);
        assert_eq!(post("abcd", true).await, StatusCode::INTERNAL_SERVER_ERROR, "the document lied");
        assert_eq!(post("abcd", false).await, StatusCode::OK, "a live server is not held to it");
    }
}
