//! Workers: they send what the outbox holds and write back what happened.
//! The same code runs inside the server (embedded mode) and as
//! `petbridge worker` processes.

pub mod delivery;

pub use delivery::{DeliveryWorker, Providers, StepOutcome};
