use sea_orm::entity::prelude::*;

/// A health-service reminder from the PMS (vaccine, exam…) with its due date.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub pms_id: String,
    pub pms_updated_at: DateTimeUtc,
    pub client_pms_id: String,
    pub pet_pms_id: String,
    pub service: String,
    pub due_on: Date,
    pub status: Status,
}

/// Where a health-service reminder stands in the PMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Status {
    /// The service is still due.
    Pending,
    /// The service was given.
    Completed,
    /// The practice dropped it.
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
