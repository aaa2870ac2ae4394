//! Chat with the practice: the conversation, its pictures and the socket ticket.

pub mod api;
