//! Practice settings.

pub mod api;
