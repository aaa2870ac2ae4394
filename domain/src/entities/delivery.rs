use sea_orm::entity::prelude::*;

/// One outgoing push, text or email: the outbox row, written in the same
/// transaction as the change that caused it, and the record of its fate.
/// Serialized whole into a stream entry when the relay claims it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// The household it reaches, when it reaches one: its communication
    /// preferences and account state are checked at send time.
    pub client_id: Option<Uuid>,
    /// `Purpose` as its snake_case name: which preference governs it.
    pub purpose: String,
    /// `Channel` as its snake_case name.
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    /// Channel-specific extras (push data, image URL, headers).
    pub data: Json,
    /// Why it was sent: the rule or person that caused it.
    pub reason: String,
    /// `DeliveryStatus` as its snake_case name.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub provider: Option<String>,
    pub provider_id: Option<String>,
    /// The provider's last report on it (e.g. `delivered`, `undelivered`).
    pub provider_status: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
