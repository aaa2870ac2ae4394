use sea_orm::entity::prelude::*;

/// A person who works in the dashboard.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// `SecurityLevel` as its snake_case name.
    pub level: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub password_changed_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub locked_at: Option<DateTimeUtc>,
    /// Failed logins since the last success; reaching the practice's
    /// threshold locks the account.
    pub consecutive_failures: i32,
    pub deleted_at: Option<DateTimeUtc>,
    /// Base32 TOTP secret (pending until `totp_enabled_at` is set).
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The last time step a code was accepted for (no code works twice).
    pub totp_last_step: Option<i64>,
    /// Storage key of the profile picture (a 256 px square JPEG).
    pub picture_key: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
