use sea_orm::entity::prelude::*;

/// A payment-gateway webhook event, stored by its id so a replay is seen
/// as one (PLANS.md B7).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_events")]
pub struct Model {
    /// The gateway's event id (`evt_…`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `payment_intent.succeeded`, …
    pub kind: String,
    /// The object it is about (`pi_…`).
    pub object_ref: Option<String>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
