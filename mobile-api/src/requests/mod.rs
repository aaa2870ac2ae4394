//! Refill orders and appointment requests.

pub mod api;
