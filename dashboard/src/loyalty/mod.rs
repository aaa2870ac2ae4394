//! Loyalty paws and rewards.

pub mod api;
pub mod pages;
