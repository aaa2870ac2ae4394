//! Errors as RFC 9457 problem documents with a stable `code` the app can
//! switch on. What the user is told is separate from what is logged: a 500
//! logs its whole cause chain and answers an opaque body.

use petbridge_domain::{Code, DomainError, Kind};
use poem::{Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error body (RFC 9457).
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the status.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A stable snake_case code to switch on (`not_found`, `invalid_email`, …).
    pub code: String,
    /// What was wrong, for people.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    /// A problem for `status` with a code and optional detail.
    pub fn new(status: StatusCode, code: Code, detail: Option<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: code.as_str().to_owned(),
            detail,
        }
    }

    /// The problem a code stands for, at its kind's status.
    pub fn of(code: Code, detail: Option<String>) -> Self {
        Self::new(status_of(code), code, detail)
    }
}

fn status_of(code: Code) -> StatusCode {
    StatusCode::from_u16(code.kind().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The errors an API operation can answer. Every operation declares them, so
/// the OpenAPI document lists each status a client must handle.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "parse_error")]
pub enum ApiError {
    /// The request could not be parsed (a parameter or the body is malformed).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// No valid credentials were given.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// The caller may not do this.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// The record does not exist, or is not the caller's to see.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The request clashes with the current state.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// The request body is larger than this endpoint accepts.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The upload is not of a type this endpoint takes.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// The input was understood but breaks a rule; `code` says which.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many attempts from this client; slow down.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>),
    /// Something failed on our side; the request id in `X-Request-Id` finds it in the logs.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
}

/// What API operations return.
pub type ApiResult<T> = Result<T, ApiError>;

fn parse_error(err: poem::Error) -> ApiError {
    match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::of(Code::PayloadTooLarge, None),
        StatusCode::UNAUTHORIZED => ApiError::of(Code::Unauthorized, None),
        _ => ApiError::of(Code::BadRequest, Some(err.to_string())),
    }
}

impl ApiError {
    /// The answer for `code`, with a detail for people when there is more to say.
    pub fn of(code: Code, detail: Option<String>) -> Self {
        let problem = Json(Problem::of(code, detail));
        match code.kind() {
            Kind::BadRequest | Kind::MethodNotAllowed | Kind::NotAcceptable => Self::BadRequest(problem),
            Kind::Unauthorized => Self::Unauthorized(problem),
            Kind::Forbidden => Self::Forbidden(problem),
            Kind::NotFound => Self::NotFound(problem),
            Kind::Conflict => Self::Conflict(problem),
            Kind::PayloadTooLarge => Self::PayloadTooLarge(problem),
            Kind::UnsupportedMediaType => Self::UnsupportedMediaType(problem),
            Kind::Unprocessable => Self::Unprocessable(problem),
            Kind::TooManyRequests => Self::TooManyRequests(problem),
            Kind::Internal | Kind::Unavailable => Self::Internal(problem),
        }
    }
}

impl From<Code> for ApiError {
    fn from(code: Code) -> Self {
        Self::of(code, None)
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Unexpected(cause) => {
                tracing::error!(error = %cause, "request failed");
                Self::of(Code::Internal, None)
            }
            DomainError::Failed(code, detail) => Self::of(code, detail),
            other => Self::of(other.code(), None),
        }
    }
}

/// A problem+json response outside an OpenAPI operation (middleware, pages).
pub fn problem_response(code: Code, detail: Option<String>) -> Response {
    problem_at(status_of(code), code, detail)
}

fn problem_at(status: StatusCode, code: Code, detail: Option<String>) -> Response {
    let problem = Problem::new(status, code, detail);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::builder().status(status).content_type(PROBLEM_JSON).body(body)
}

/// The stable code for a bare HTTP status.
fn code_for(status: StatusCode) -> Code {
    match status {
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::Forbidden,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::NOT_ACCEPTABLE => Code::NotAcceptable,
        StatusCode::CONFLICT => Code::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::Unprocessable,
        StatusCode::TOO_MANY_REQUESTS => Code::TooManyRequests,
        s if s.is_server_error() => Code::Internal,
        _ => Code::BadRequest,
    }
}

/// Turns any error that escaped an endpoint into problem+json, keeping
/// responses that already are one (and their headers, such as `Allow`).
pub async fn to_problem(err: poem::Error) -> Response {
    if err.status().is_server_error() {
        tracing::error!(error = %err, "unhandled error");
    }
    let response = err.into_response();
    let is_problem = response.content_type().is_some_and(|ct| ct.starts_with(PROBLEM_JSON));
    // Redirects (to the login page, say) travel as errors too: leave them be.
    if is_problem || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let status = response.status();
    let (parts, body) = response.into_parts();
    let detail =
        if status.is_server_error() { None } else { body.into_string().await.ok().filter(|text| !text.is_empty()) };
    let mut problem = problem_at(status, code_for(status), detail);
    for (name, value) in &parts.headers {
        if name != poem::http::header::CONTENT_TYPE && name != poem::http::header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}
