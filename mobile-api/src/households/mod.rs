//! The household: its pets, appointments and communication preferences.

pub mod api;
