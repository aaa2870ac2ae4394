//! The owner app's API (`/api/app/v1`) and its chat socket (`/ws/app`).
//!
//! One folder per feature, named as in the domain; `kit` holds what they
//! share and `routes` is the only module that mounts them.

pub mod kit;
pub mod routes;

pub mod chat;
pub mod households;
pub mod loyalty;
pub mod notifications;
pub mod owners;
pub mod plans;
pub mod requests;
pub mod selfies;

/// The version the app API document carries.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
