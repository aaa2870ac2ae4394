//! The owner's account: sign-up, login, tokens, email and password, deletion, devices.

pub mod api;
