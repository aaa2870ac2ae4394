//! Conversations between a household and its practice, their pictures, and
//! the live events the dashboard hears.

pub mod attachments;
pub mod conversations;
pub mod events;
