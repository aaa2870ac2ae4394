use sea_orm::entity::prelude::*;

/// A reward asked for in the app (pending until staff decide) or given by
/// staff (Manually Reward, approved at once). Its paws leave the balance
/// when it is made and come back if it is declined.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reward_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub reward_id: Option<Uuid>,
    pub reward_name: String,
    pub paws: i32,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    /// `owner`, or the name of the staff member who gave it.
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
