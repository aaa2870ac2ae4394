//! Everything sent to people: the outbox the workers drain, and the signed
//! links messages carry.

pub mod links;
pub mod outbox;
