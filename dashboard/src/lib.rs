//! The practice side: the staff API (`/api/dashboard/v1`), the PMS sync API
//! (`/api/sync/v1`), and the web dashboard's server-rendered pages.

pub mod admin_api;
mod admin_pages;
pub mod api;
pub mod auth;
pub mod chat_api;
mod chat_pages;
mod client_pages;
pub mod clients_api;
pub mod household_api;
pub mod live;
mod loyalty_pages;
mod owner_pages;
pub mod pages;
mod preference_pages;
pub mod sync;

pub use admin_api::AdminApi;
pub use api::DashboardApi;
pub use chat_api::ChatApi;
pub use clients_api::ClientsApi;
pub use household_api::HouseholdApi;
pub use sync::SyncApi;

/// The version the dashboard and sync API documents carry.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
