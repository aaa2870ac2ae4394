//! Owners' selfies.

pub mod api;
