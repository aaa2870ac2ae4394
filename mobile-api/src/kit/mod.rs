//! What every feature of the app API shares: the owner's authentication,
//! the API's sections and responses.

pub mod auth;
pub mod responses;
pub mod tags;
