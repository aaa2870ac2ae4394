use sea_orm::entity::prelude::*;

/// A one-time ticket that opens one app socket: short-lived, so no lasting
/// credential ever travels in a URL. Only its hash is kept.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "socket_tickets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_hash: String,
    pub practice_id: Uuid,
    pub account_id: Uuid,
    /// The app login it was fetched with: the socket lives no longer than it.
    pub session_id: Uuid,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
