use sea_orm::entity::prelude::*;

/// One try at charging a payment (PLANS.md B2, B5). It is stored
/// `processing` before the gateway is called, and its id is the call's
/// idempotency key: asked again, the gateway answers the first call's outcome.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub payment_id: Uuid,
    /// The card charged.
    pub profile_id: Option<Uuid>,
    pub amount_cents: i64,
    pub status: AttemptStatus,
    /// The gateway's PaymentIntent (`pi_…`), once it answered.
    pub intent_ref: Option<String>,
    /// Why the bank said no (`insufficient_funds`, `lost_card`, …).
    pub decline_code: Option<String>,
    /// The gateway's words about a failure.
    pub failure: Option<String>,
    /// What started it: `schedule`, `the owner, in the app`, or a staff member's name.
    pub started_by: String,
    pub started_at: DateTimeUtc,
    pub settled_at: Option<DateTimeUtc>,
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Sent to the gateway, or about to be; its outcome is not known yet.
    Processing,
    /// Charged.
    Succeeded,
    /// Declined, or refused by the gateway.
    Failed,
    /// The owner must confirm it with their bank.
    RequiresAction,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
