//! The activity log.

pub mod api;
pub mod pages;
