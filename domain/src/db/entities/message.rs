use sea_orm::entity::prelude::*;

/// One message of a conversation, numbered by `seq` within it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub practice_id: Uuid,
    pub seq: i64,
    /// `owner`, `staff` or `system`.
    pub author: String,
    pub author_staff_id: Option<Uuid>,
    /// How it arrived: `app` or `sms`.
    pub channel: String,
    /// The sender's own id for it (an app's message id, a text's provider
    /// id): a repeated send finds the stored message instead of a second.
    pub client_message_id: Option<String>,
    pub body: String,
    /// A picture sent with it.
    pub attachment_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
