use sea_orm::entity::prelude::*;

/// A household as the practice knows it: from the PMS (`pms_id` set), or
/// added by an invitation or an app sign-up with no PMS match.
///
/// The listing columns (`sort_name` … `search_text`) are derived from the
/// client, its account, pets and reminders by `clients::refresh_listing`, so
/// the Users list sorts and searches on indexed columns.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub pms_id: Option<String>,
    /// When the PMS last changed the record; `None` while it is known only
    /// as the owner of a synced pet.
    pub pms_updated_at: Option<DateTimeUtc>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub pms_active: bool,
    pub last_transaction_on: Option<Date>,
    pub invited_at: Option<DateTimeUtc>,
    pub personal_note: Option<String>,
    pub sort_name: String,
    pub account_status: AccountStatus,
    pub account_created_at: Option<DateTimeUtc>,
    pub pet_sync_status: PetSyncStatus,
    /// The earliest due date of an open reminder (past due when before today).
    pub earliest_due_on: Option<Date>,
    /// The latest transaction: the PMS's date or the newest invoice.
    pub last_activity_on: Option<Date>,
    pub search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// An owner's app account status, as the Users list shows it. Stored, so
/// the list sorts and filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum AccountStatus {
    /// No account and no invitation.
    #[sea_orm(string_value = "none")]
    NoAccount,
    /// Invited by email; no account yet.
    Invited,
    /// Has an account whose email address is not verified (yet, or again).
    EmailNotVerified,
    /// Downloaded the app, logged in and verified the email address.
    Verified,
    /// Deactivated by the practice, or inactive in the PMS.
    Disabled,
}

/// Whether the app shows the owner's PMS pets, appointments and reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum PetSyncStatus {
    /// Verified, and the email matches a PMS client.
    Connected,
    /// Verified, but no PMS client has this email.
    NoEmailMatch,
    /// No account yet, or its email is not verified.
    NotAvailable,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
