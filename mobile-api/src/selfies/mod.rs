//! Selfies and the slideshow.

pub mod api;
