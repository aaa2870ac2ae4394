//! The household's wellness plans in the app.

pub mod api;
pub mod payments;
