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

/// mimalloc for every program that links the server (the binary, the bench,
/// the tests). Rows, stream entries and HTTP bodies are allocated on one
/// thread and freed on another, which glibc's per-thread arenas pay for in
/// locks and consolidation (measured in docs/BENCHMARKS.md, "Push deliveries").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
