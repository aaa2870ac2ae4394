//! The notifications inbox.

pub mod api;
