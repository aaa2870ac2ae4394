//! Responses many operations share.

use poem_openapi::ApiResponse;

/// Done, nothing to return.
#[derive(ApiResponse)]
pub(crate) enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}
