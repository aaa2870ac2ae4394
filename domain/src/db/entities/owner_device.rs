use sea_orm::entity::prelude::*;

/// A push token of a device where the owner is logged in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "owner_devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// The session that registered it; its logout drops it.
    pub session_id: Option<Uuid>,
    pub token: String,
    /// `ios` or `android`.
    pub platform: String,
    /// What `token` is: `fcm_token` (a registration token) or `fid` (a
    /// Firebase installation id).
    pub kind: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
