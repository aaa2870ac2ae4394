use sea_orm::entity::prelude::*;

/// A practice: one tenant of the deployment.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "practices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// IANA time zone name; day-based rules use it.
    pub time_zone: String,
    /// `PracticeSettings` as JSON.
    pub settings: Json,
    /// The practice's own texting number (E.164); inbound texts find the practice by it.
    pub sms_number: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
