//! Orders and appointment requests.

pub mod api;
