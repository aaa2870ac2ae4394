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
pub mod gateway_event;
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
pub mod payment_attempt;
pub mod payment_digest;
pub mod payment_profile;
pub mod payment_refund;
pub mod performance_goal;
pub mod pet;
pub mod plan;
pub mod plan_add_on;
pub mod plan_agreement;
pub mod plan_note;
pub mod plan_payment;
pub mod plan_point_award;
pub mod plan_template;
pub mod plan_template_item;
pub mod plan_template_version;
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

/// A stored status or kind, as the API documents name it: each variant is
/// its stored name, and the API answers and reads those names.
pub trait StoredEnum:
    sea_orm::ActiveEnum<Value = String> + sea_orm::Iterable + std::fmt::Display + Copy + Send + Sync + 'static
{
    /// Its schema's name in the API documents.
    const SCHEMA: &'static str;

    /// The variant stored as `name`, if one is.
    fn named(name: &str) -> Option<Self> {
        Self::try_from_value(&name.to_owned()).ok()
    }
}

/// Stored statuses print as their stored names: the pages, logs and API
/// answers all show the one name the column holds.
macro_rules! stored_enum {
    ($($status:ty => $schema:literal),* $(,)?) => {$(
        impl std::fmt::Display for $status {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&sea_orm::ActiveEnum::to_value(self))
            }
        }

        impl StoredEnum for $status {
            const SCHEMA: &'static str = $schema;
        }
    )*};
}

stored_enum!(
    appointment::Status => "AppointmentStatus",
    client::AccountStatus => "AccountStatus",
    client::PetSyncStatus => "PetSyncStatus",
    conversation::Status => "ConversationStatus",
    delivery::DeliveryStatus => "DeliveryStatus",
    crate::kernel::practice::CancellationPolicy => "CancellationPolicy",
    crate::kernel::practice::FinalFailure => "FinalFailure",
    owner_request::Kind => "RequestKind",
    payment_attempt::AttemptStatus => "AttemptStatus",
    owner_request::Status => "RequestStatus",
    pet::PmsStatus => "PmsStatus",
    plan::Billing => "PlanBilling",
    plan_agreement::Occasion => "AgreementOccasion",
    plan::HoldReason => "HoldReason",
    plan::Renewal => "PlanRenewal",
    plan::Status => "PlanStatus",
    plan_payment::PaymentKind => "PaymentKind",
    plan_payment::PaymentStatus => "PaymentStatus",
    plan_payment::SupplementalPurpose => "SupplementalPurpose",
    reminder::Status => "ReminderStatus",
    reward_request::Status => "RewardRequestStatus",
);
