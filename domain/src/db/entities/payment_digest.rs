use sea_orm::entity::prelude::*;

/// The day a practice's staff digest of payment trouble was sent: one row
/// a day, claimed by the worker that sends it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_digests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub practice_id: Uuid,
    /// The practice's day it covers the eve of.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
