//! What every HTTP-facing crate shares: `application/problem+json` errors
//! with stable codes, the request context (id, client address), and the
//! middleware that sets it up and bounds request bodies.

pub mod chat;
pub mod chat_socket;
pub mod context;
pub mod pictures;
pub mod preferences;
pub mod problem;
pub mod strict_json;

pub use context::{BodyLimit, Observe, RequestContext};
pub use problem::{ApiError, ApiResult, PROBLEM_JSON, Problem, problem_response, to_problem};
pub use strict_json::StrictJson;
