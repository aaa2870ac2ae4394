use sea_orm::entity::prelude::*;

/// An appointment booked in the PMS. Linked by PMS ids, so it may arrive
/// before its client or pet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub pms_id: String,
    pub pms_updated_at: DateTimeUtc,
    pub client_pms_id: String,
    pub pet_pms_id: Option<String>,
    pub starts_at: DateTimeUtc,
    pub reason: Option<String>,
    pub status: Status,
}

/// Where an appointment stands in the PMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Status {
    /// Booked and still ahead (or not yet closed).
    Scheduled,
    /// The visit happened.
    Completed,
    /// Called off.
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
