use sea_orm::entity::prelude::*;

/// A one-way notification from the practice, kept in the household's inbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub title: String,
    pub body: String,
    /// A picture given by URL.
    pub image_url: Option<String>,
    /// Or a favourite selfie of the household: the app gets a signed link
    /// to it when it reads its inbox; staff see only which selfie.
    pub selfie_id: Option<Uuid>,
    /// The staff member who sent it; none for a message-center blast.
    pub sent_by: Option<Uuid>,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
