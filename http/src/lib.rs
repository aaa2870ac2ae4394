//! What every HTTP-facing crate shares: `application/problem+json` errors
//! with stable codes, the request context (id, client address), and the
//! middleware that sets it up and bounds request bodies.

pub mod api_contract;
pub mod context;
pub mod documents;
pub mod fields;
pub mod payments;
pub mod pictures;
pub mod plans;
pub mod preferences;
pub mod problem;
pub mod reminders;

pub use api_contract::ApiContract;
pub use context::{BodyLimit, NoCardNumbers, Observe, RequestContext};
pub use problem::{ApiError, ApiResult, PROBLEM_JSON, Problem, problem_response, to_problem};
