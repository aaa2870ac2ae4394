//! Clients, pets and preferences.

pub mod api;
pub mod pages;
pub mod preference_pages;
