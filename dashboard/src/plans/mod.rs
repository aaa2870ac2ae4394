//! Wellness plans: the practice's plan templates.

pub mod api;
pub mod pages;
pub mod payments;
