use sea_orm::entity::prelude::*;

/// The conversation between a household and its practice: one per
/// household, closed and reopened by staff (a new message reopens it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub status: Status,
    /// The staff member it is assigned to.
    pub assigned_to: Option<Uuid>,
    /// The seq of its newest message (0: none yet).
    pub last_seq: i64,
    /// The newest seq the owner has read.
    pub owner_read_seq: i64,
    /// The newest seq the practice has read.
    pub staff_read_seq: i64,
    pub last_message_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Whether the practice still has something to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, serde::Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting on the practice (every new message reopens it).
    Open,
    /// Settled by staff.
    Closed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::client::Entity", from = "Column::ClientId", to = "super::client::Column::Id")]
    Client,
}

impl Related<super::client::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Client.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
