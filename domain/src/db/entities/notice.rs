use sea_orm::entity::prelude::*;

/// That a reminder or an appointment was brought to its household's
/// attention: the reminder jobs notify each subject once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    /// `past_due`, `appointment` or `survey`.
    pub subject: String,
    /// The reminder's or the appointment's id.
    pub subject_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
