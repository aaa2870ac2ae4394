//! Practice-wide sends.

pub mod api;
