use sea_orm::entity::prelude::*;

/// A wellness-plan template: the practice's product. What it holds lives
/// in its versions; `current_version` is the one sold from now on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// The practice's code for it, unique in the practice (e.g. `PUPPY`).
    pub code: String,
    pub current_version: i32,
    /// No longer sold (plans already sold keep it).
    pub retired_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
