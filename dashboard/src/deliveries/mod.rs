//! Deliveries and the Outbox.

pub mod api;
pub mod pages;
