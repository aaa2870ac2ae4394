//! What every feature's API and pages share: the staff extractors and the
//! one permission check, the page chrome, the API's sections and responses.

pub mod auth;
pub mod chrome;
pub mod responses;
pub mod tags;
