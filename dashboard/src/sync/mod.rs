//! The PMS sync: the agent's API, and keys and batches for administrators.

pub mod agent;
pub mod api;
pub mod pages;
