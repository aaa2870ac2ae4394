use sea_orm::entity::prelude::*;

/// An add-on item chosen for a plan at enrolment, at the monthly price it
/// was sold at.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_add_ons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    /// The item, of the version the plan was sold on.
    pub item_id: Uuid,
    pub monthly_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
