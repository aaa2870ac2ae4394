//! Households: the PMS clients, their pets, and what they agreed to receive.

pub mod clients;
pub mod pets;
pub mod preferences;
