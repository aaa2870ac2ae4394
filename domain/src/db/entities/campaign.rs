use sea_orm::entity::prelude::*;

/// A mass send run by the workers' timed jobs: Reinvite All (at most once
/// per calendar month) or a message-center blast (its own id as period).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub kind: String,
    /// The period it used up, e.g. `2026-11`.
    pub period: String,
    /// When it was asked for.
    pub sent_at: DateTimeUtc,
    /// How many it reached (known once done).
    pub recipients: i32,
    /// A blast's title and text.
    pub title: Option<String>,
    pub body: Option<String>,
    /// Not to run before this.
    pub run_at: Option<DateTimeUtc>,
    /// When its deliveries were queued.
    pub done_at: Option<DateTimeUtc>,
    /// Who asked for it.
    pub created_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
