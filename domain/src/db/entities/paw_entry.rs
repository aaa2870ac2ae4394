use sea_orm::entity::prelude::*;

/// One line of a household's loyalty ledger. Entries are never changed or
/// deleted: a mistake is undone by a reversing entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paw_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    /// Positive for paws earned or refunded, negative for paws redeemed or reversed.
    pub paws: i32,
    /// `earned`, `redeemed`, `refunded` or `reversed`.
    pub kind: String,
    /// What it was for, as the owner and staff read it.
    pub reason: String,
    /// The earned entry an Oops stamp takes back.
    pub reverses_id: Option<Uuid>,
    /// The reward request that redeemed or refunded these paws.
    pub reward_request_id: Option<Uuid>,
    /// What may happen once per household (`app_download`, `oops:<entry>`).
    pub once_key: Option<String>,
    pub staff_id: Option<Uuid>,
    pub staff_name: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
