//! Staff accounts, their sign-in and their own profile.

pub mod api;
pub mod me;
pub mod pages;
pub mod sign_in;
