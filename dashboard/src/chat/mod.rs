//! Live chat with households.

pub mod api;
pub mod live;
pub mod pages;
