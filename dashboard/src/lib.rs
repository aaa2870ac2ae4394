//! The practice side: the staff API (`/api/dashboard/v1`), the PMS sync API
//! (`/api/sync/v1`), and the web dashboard's server-rendered pages.
//!
//! One folder per feature, named as in the domain, each with its `api.rs`
//! (staff API operations) and `pages.rs` (pages that render); `kit` holds
//! what they share and `routes` is the only module that mounts them.

pub mod kit;
pub mod routes;

pub mod activity;
pub mod campaigns;
pub mod chat;
pub mod deliveries;
pub mod home;
pub mod households;
pub mod loyalty;
pub mod notifications;
pub mod owners;
pub mod performance;
pub mod plans;
pub mod practices;
pub mod requests;
pub mod selfies;
pub mod staff;
pub mod sync;

/// The version the dashboard and sync API documents carry.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
