use sea_orm::entity::prelude::*;

/// A staff note on a plan (PLANS.md A10): staff add them, administrators
/// edit or delete them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub plan_id: Uuid,
    pub body: String,
    pub author_id: Option<Uuid>,
    pub author: String,
    pub created_at: DateTimeUtc,
    /// The administrator who last edited it, and when.
    pub edited_by: Option<String>,
    pub edited_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
