use sea_orm::entity::prelude::*;

/// The record of one applied sync batch: counts per kind and rejected records.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// The key that sent it; `None` for `petbridge sync import`.
    pub key_id: Option<Uuid>,
    /// `api` or `import`.
    pub source: String,
    pub received_at: DateTimeUtc,
    pub counts: Json,
    pub errors: Json,
    pub error_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
