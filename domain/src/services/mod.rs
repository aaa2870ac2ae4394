//! One module per area. Each function takes the caller's scope, applies the
//! rules, and writes in one transaction.

pub mod access;
pub mod activity;
pub mod attachments;
pub mod campaigns;
pub mod clients;
pub mod conversations;
pub mod events;
pub mod exports;
pub mod images;
pub mod links;
pub mod loyalty;
pub mod notifications;
pub mod outbox;
pub mod owners;
pub mod passwords;
pub mod performance;
pub mod permissions;
pub mod pets;
pub mod practices;
pub mod preferences;
pub mod reminders;
pub mod requests;
pub mod selfies;
pub mod sessions;
pub mod socket_tickets;
pub mod staff;
pub mod sync;
pub mod texts;
pub mod throttle;
pub mod tokens;
pub mod two_factor;
