//! sea-orm entities, one file per table. Never API payloads: each API crate
//! owns its request and response types.

pub mod activity;
pub mod appointment;
pub mod attachment;
pub mod campaign;
pub mod client;
pub mod communication_preference;
pub mod conversation;
pub mod delivery;
pub mod invoice;
pub mod invoice_line;
pub mod login_attempt;
pub mod message;
pub mod notice;
pub mod notification;
pub mod owner_account;
pub mod owner_device;
pub mod owner_email_token;
pub mod owner_refresh_token;
pub mod owner_session;
pub mod performance_goal;
pub mod pet;
pub mod plan_point_award;
pub mod practice;
pub mod recovery_code;
pub mod reminder;
pub mod session;
pub mod signing_key;
pub mod sms_opt_out;
pub mod socket_ticket;
pub mod staff_user;
pub mod sync_batch;
pub mod sync_key;
pub mod text_message;
