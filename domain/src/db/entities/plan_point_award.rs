use sea_orm::entity::prelude::*;

/// Plan points earned by a staff member (an enrolment, say), or taken back
/// (negative).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_point_awards")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub staff_user_id: Uuid,
    pub points: i32,
    /// What earned them, e.g. "enrolled Bella in Puppy Plan".
    pub reason: String,
    pub awarded_at: DateTimeUtc,
    /// The plan that earned them (or whose cancellation took them back).
    pub plan_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
