//! Staff performance.

pub mod api;
pub mod pages;
