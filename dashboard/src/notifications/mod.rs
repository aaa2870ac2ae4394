//! One-way notifications.

pub mod api;
