use sea_orm::entity::prelude::*;

/// An invoice from the PMS; its lines feed plan usage.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub pms_id: String,
    pub pms_updated_at: DateTimeUtc,
    pub client_pms_id: String,
    pub invoiced_on: Date,
    pub voided: bool,
    /// The total in cents, when the PMS sends it (loyalty paws are earned from it).
    pub total_cents: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
