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
pub mod owner_request;
pub mod owner_session;
pub mod paw_card;
pub mod paw_entry;
pub mod performance_goal;
pub mod pet;
pub mod plan_point_award;
pub mod practice;
pub mod recovery_code;
pub mod reminder;
pub mod reward;
pub mod reward_request;
pub mod selfie;
pub mod session;
pub mod signing_key;
pub mod sms_opt_out;
pub mod socket_ticket;
pub mod staff_user;
pub mod sync_batch;
pub mod sync_key;
pub mod text_message;

/// Stored statuses print as their stored names: the pages, logs and API
/// answers all show the one name the column holds.
macro_rules! shown_as_stored {
    ($($status:ty),* $(,)?) => {$(
        impl std::fmt::Display for $status {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&sea_orm::ActiveEnum::to_value(self))
            }
        }
    )*};
}

shown_as_stored!(
    appointment::Status,
    client::AccountStatus,
    client::PetSyncStatus,
    conversation::Status,
    delivery::DeliveryStatus,
    owner_request::Kind,
    owner_request::Status,
    pet::PmsStatus,
    reminder::Status,
    reward_request::Status,
);
