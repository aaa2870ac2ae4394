//! Responses many operations share.

use poem_openapi::{ApiResponse, payload::PlainText};

/// A CSV file.
#[derive(ApiResponse)]
pub(crate) enum Csv {
    /// The CSV document.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(PlainText<String>, #[oai(header = "content-disposition")] String),
}

/// Done, nothing to return.
#[derive(ApiResponse)]
pub(crate) enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}
