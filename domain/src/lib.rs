//! Petbridge's model and rules. No HTTP lives here: the API crates parse and
//! authenticate, then call a service with the caller's [`Scope`].

pub mod caches;
pub mod entities;
pub mod error;
pub mod platform;
pub mod ports;
pub mod services;
pub mod types;

pub use error::{Code, DomainError, DomainResult, Kind};
pub use platform::Platform;
pub use sea_orm;
pub use types::{Actor, Cursor, Origin, Page, Scope};
