//! One error type for every service. Each API crate maps it once to its
//! responses; the codes are stable and documented for app developers.

use sea_orm::DbErr;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The record does not exist, or lies outside the caller's scope.
    #[error("not found")]
    NotFound,
    /// The caller is known but may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The caller may not do this until something changes (a stable code says what).
    #[error("forbidden: {0}")]
    ForbiddenUntil(&'static str),
    /// The caller could not be authenticated.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The request clashes with the current state (a stable code says how).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A conflict with a message for people (e.g. when to try again).
    #[error("conflict: {0}: {1}")]
    ConflictWith(&'static str, String),
    /// The upload is not of a type we take (read from its bytes).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// Too many attempts; try again later (a stable code says which limit).
    #[error("rate limited: {0}")]
    RateLimited(&'static str),
    /// The input breaks a rule: a stable code and a message for people.
    #[error("{0}: {1}")]
    Validation(&'static str, String),
    /// Something outside the caller's control failed; logged, not shown.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

/// The result every service returns.
pub type DomainResult<T> = Result<T, DomainError>;

impl DomainError {
    /// A validation error with a stable code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(code, message.into())
    }

    /// Wraps an unexpected failure, keeping its whole cause chain for the log.
    pub fn unexpected(err: impl std::error::Error) -> Self {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Unexpected(text)
    }
}

impl From<DbErr> for DomainError {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::RecordNotFound(_) => Self::NotFound,
            other => Self::unexpected(other),
        }
    }
}
