//! Pet owners' app accounts and the tickets of their chat socket.

pub mod accounts;
pub mod socket_tickets;
