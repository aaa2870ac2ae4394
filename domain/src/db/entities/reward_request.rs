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
    pub status: Status,
    /// `owner`, or the name of the staff member who gave it.
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Where a reward request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Status {
    /// Asked for in the app; its paws are held.
    Pending,
    /// Given.
    Approved,
    /// Refused; its paws came back.
    Declined,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
