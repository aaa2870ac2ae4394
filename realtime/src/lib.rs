//! Live chat for both sides: the socket loop the owner app (`/ws/app`) and
//! the dashboard (`/ws/dashboard`) share, and the chat payloads both APIs
//! and the socket frames carry (`docs/chat-protocol.md`).

pub mod chat;
pub mod socket;
