use sea_orm::entity::prelude::*;

/// A campaign sent at most once per period (Reinvite All: per calendar month).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub kind: String,
    /// The period it used up, e.g. `2026-11`.
    pub period: String,
    pub sent_at: DateTimeUtc,
    pub recipients: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
