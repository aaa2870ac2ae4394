//! Loyalty paws and rewards.

pub mod api;
