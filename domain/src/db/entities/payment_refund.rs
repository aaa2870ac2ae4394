use sea_orm::entity::prelude::*;

use super::payment_attempt::AttemptStatus;

/// Money paid back to a card through the gateway (PLANS.md A9). Like a
/// charge attempt, it is stored `processing` before the gateway is called
/// and its id is the call's idempotency key, so a lost answer is asked
/// again and never refunds twice.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub payment_id: Uuid,
    /// The succeeded attempt whose charge is paid back.
    pub attempt_id: Uuid,
    pub amount_cents: i64,
    /// `processing`, `succeeded` or `failed` (never `requires_action`).
    pub status: AttemptStatus,
    /// The gateway's refund (`re_…`), once it answered.
    pub refund_ref: Option<String>,
    /// The gateway's words when it refused.
    pub failure: Option<String>,
    /// Who asked for it.
    pub started_by: String,
    pub started_at: DateTimeUtc,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
