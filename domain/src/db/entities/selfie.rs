use sea_orm::entity::prelude::*;

/// A picture an owner sent from the app, kept re-encoded (no EXIF or GPS)
/// with a square thumbnail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "selfies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    /// The pet in it, if the owner said.
    pub pet_id: Option<Uuid>,
    pub storage_key: String,
    pub thumbnail_key: String,
    pub width: i32,
    pub height: i32,
    pub size_bytes: i64,
    /// Staff put it in the app's home-screen slideshow.
    pub starred_at: Option<DateTimeUtc>,
    /// Staff flagged it as a favourite to attach to push notifications.
    pub hearted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
