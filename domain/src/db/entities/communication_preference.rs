use sea_orm::entity::prelude::*;

/// What a household agreed to receive. No row means everything is on; the
/// owner (app, preference centre, unsubscribe link) and staff change it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "communication_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: Uuid,
    pub practice_id: Uuid,
    pub post_visit_surveys: bool,
    pub postcard_reminders: bool,
    pub email: bool,
    pub two_way_texts: bool,
    pub push: bool,
    /// Who changed it last: `owner`, `link`, or a staff member's name.
    pub updated_by: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
