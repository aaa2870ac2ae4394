//! Errors as RFC 9457 problem documents with a stable `code` the app can
//! switch on. What the user is told is separate from what is logged: a 500
//! logs its whole cause chain and answers an opaque body.

use petbridge_domain::DomainError;
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
    pub fn new(status: StatusCode, code: &str, detail: Option<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            detail,
        }
    }
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
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge(Json(Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None)));
    }
    if err.status() == StatusCode::UNAUTHORIZED {
        return ApiError::Unauthorized(Json(Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", None)));
    }
    ApiError::BadRequest(Json(Problem::new(StatusCode::BAD_REQUEST, "bad_request", Some(err.to_string()))))
}

impl ApiError {
    /// 401 with a code.
    pub fn unauthorized(code: &str) -> Self {
        Self::Unauthorized(Json(Problem::new(StatusCode::UNAUTHORIZED, code, None)))
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::NotFound(Json(Problem::new(StatusCode::NOT_FOUND, "not_found", None)))
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound => Self::not_found(),
            DomainError::Forbidden => Self::Forbidden(Json(Problem::new(StatusCode::FORBIDDEN, "forbidden", None))),
            DomainError::ForbiddenUntil(code) => Self::Forbidden(Json(Problem::new(StatusCode::FORBIDDEN, code, None))),
            DomainError::Unauthorized(code) => Self::unauthorized(code),
            DomainError::Conflict(code) => Self::Conflict(Json(Problem::new(StatusCode::CONFLICT, code, None))),
            DomainError::ConflictWith(code, message) => {
                Self::Conflict(Json(Problem::new(StatusCode::CONFLICT, code, Some(message))))
            }
            DomainError::Unsupported(code) => {
                Self::UnsupportedMediaType(Json(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, None)))
            }
            DomainError::RateLimited(code) => {
                Self::TooManyRequests(Json(Problem::new(StatusCode::TOO_MANY_REQUESTS, code, None)))
            }
            DomainError::Validation(code, message) => {
                Self::Unprocessable(Json(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, Some(message))))
            }
            DomainError::Unexpected(cause) => {
                tracing::error!(error = %cause, "request failed");
                Self::Internal(Json(Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", None)))
            }
        }
    }
}

/// A problem+json response outside an OpenAPI operation (middleware, pages).
pub fn problem_response(status: StatusCode, code: &str, detail: Option<String>) -> Response {
    let problem = Problem::new(status, code, detail);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::builder().status(status).content_type(PROBLEM_JSON).body(body)
}

/// The stable code for a bare HTTP status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        s if s.is_server_error() => "internal_error",
        _ => "error",
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
    let mut problem = problem_response(status, code_for(status), detail);
    for (name, value) in &parts.headers {
        if name != poem::http::header::CONTENT_TYPE && name != poem::http::header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    problem
}
