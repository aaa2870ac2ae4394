//! Pages owners reach from an email link.

pub mod pages;
