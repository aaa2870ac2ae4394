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
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub provider: Option<String>,
    pub provider_id: Option<String>,
    /// The provider's last report on it (e.g. `delivered`, `undelivered`).
    pub provider_status: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// What the message carries for its recipient alone (a link that signs
    /// them in): the body, subject and data hold [`SEALED`] in its place.
    /// Kept only until the delivery is settled.
    pub secret: Option<Sealed>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting to be sent (or to be retried).
    Queued,
    /// Accepted by the provider.
    Sent,
    /// Refused for good by the provider.
    Failed,
    /// Gave up after too many tries.
    Dead,
    /// Not sent, by the recipient's choice (opted out, preferences).
    Skipped,
}

/// The stand-in for a sealed secret in everything staff can read.
pub const SEALED: &str = "[private link: only the recipient sees it]";

/// A secret meant for a delivery's recipient alone. It never prints.
#[derive(Clone, PartialEq, Eq, DeriveValueType, serde::Serialize, serde::Deserialize)]
pub struct Sealed(pub String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed([hidden])")
    }
}

impl Model {
    /// The message as its recipient gets it: the sealed secret back in
    /// place of its stand-in. Only a provider's send sees this form.
    pub fn revealed(&self) -> std::borrow::Cow<'_, Model> {
        let Some(Sealed(secret)) = &self.secret else { return std::borrow::Cow::Borrowed(self) };
        fn reveal(value: &mut serde_json::Value, secret: &str) {
            match value {
                serde_json::Value::String(text) if text.contains(SEALED) => *text = text.replace(SEALED, secret),
                serde_json::Value::Array(items) => items.iter_mut().for_each(|item| reveal(item, secret)),
                serde_json::Value::Object(fields) => fields.values_mut().for_each(|field| reveal(field, secret)),
                _ => {}
            }
        }
        let mut row = self.clone();
        row.body = row.body.replace(SEALED, secret);
        row.subject = row.subject.map(|subject| subject.replace(SEALED, secret));
        reveal(&mut row.data, secret);
        std::borrow::Cow::Owned(row)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
