//! The Petbridge server: settings, wiring of the ports' adapters, the HTTP
//! routes of every crate, and the command line.

pub mod app;
pub mod bootstrap;
pub mod demo;
pub mod import;
pub mod settings;
mod sqlite_checkpoints;
mod sqlite_wait;
pub mod telemetry;

pub use app::{Application, Options};
pub use settings::Settings;
