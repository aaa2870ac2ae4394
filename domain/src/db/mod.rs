//! The stored model: sea-orm entities, and the one way to open a write.

pub mod entities;
pub mod paging;
pub mod transaction;
