use sea_orm::entity::prelude::*;

/// A text an owner sent to the practice's number (two-way texting).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "text_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// The household whose phone it came from, when one matches.
    pub client_id: Option<Uuid>,
    /// The sender, E.164.
    pub phone: String,
    pub body: String,
    /// The provider's message id; a webhook repeated for it is ignored.
    #[sea_orm(unique)]
    pub provider_sid: String,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
