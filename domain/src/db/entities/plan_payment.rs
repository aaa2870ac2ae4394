use sea_orm::entity::prelude::*;

/// One payment of a plan's schedule (PLANS.md B1, B2).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub plan_id: Uuid,
    /// 1, 2, … in the order the payments were scheduled.
    pub number: i32,
    pub kind: PaymentKind,
    pub due_on: Date,
    pub amount_cents: i64,
    pub status: PaymentStatus,
    /// When it was paid, cancelled or refunded.
    pub settled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// What of it was paid back.
    pub refunded_cents: i64,
    /// Declined attempts since it was last scheduled.
    pub failures: i32,
    /// The practice's day its next retry is due, while one is.
    pub retry_on: Option<Date>,
    /// What a supplemental payment is for.
    pub purpose: Option<SupplementalPurpose>,
    /// Staff's words about a supplemental payment.
    pub note: Option<String>,
    /// The payment a supplemental one took the place of (cancelled with it).
    pub replaces_id: Option<Uuid>,
    /// When its last retry was declined: the practice's final-failure policy is then owed.
    pub retries_ended_at: Option<DateTimeUtc>,
    /// The final-failure policy applied to it, once it was.
    pub final_failure: Option<crate::kernel::practice::FinalFailure>,
}

/// A payment of plan `plan_id`, scheduled and not yet tried: the one place
/// that knows every column a new payment starts with.
pub fn scheduled(
    practice_id: Uuid,
    plan_id: Uuid,
    number: i32,
    kind: PaymentKind,
    due_on: Date,
    amount_cents: i64,
    now: DateTimeUtc,
) -> ActiveModel {
    use sea_orm::Set;
    ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(practice_id),
        plan_id: Set(plan_id),
        number: Set(number),
        kind: Set(kind),
        due_on: Set(due_on),
        amount_cents: Set(amount_cents),
        status: Set(PaymentStatus::Scheduled),
        settled_at: Set(None),
        created_at: Set(now),
        refunded_cents: Set(0),
        failures: Set(0),
        retry_on: Set(None),
        purpose: Set(None),
        note: Set(None),
        replaces_id: Set(None),
        retries_ended_at: Set(None),
        final_failure: Set(None),
    }
}

/// The number the next payment added to a plan with `payments` takes.
pub fn next_number(payments: &[Model]) -> i32 {
    payments.iter().map(|p| p.number).max().unwrap_or(0) + 1
}

/// The payments that collected money, newest first: the order a refund
/// takes them in.
pub fn newest_collected_first(payments: &[Model]) -> Vec<&Model> {
    let mut collected: Vec<&Model> = payments.iter().filter(|p| p.collected_cents() > 0).collect();
    collected.sort_by_key(|p| std::cmp::Reverse((p.due_on, p.number)));
    collected
}

impl Model {
    /// It with `cents` more of it paid back (at most all of it): refunded,
    /// or partly, as of `now`.
    pub fn paid_back(&self, cents: i64, now: DateTimeUtc) -> ActiveModel {
        use sea_orm::Set;
        let refunded = (self.refunded_cents + cents).min(self.amount_cents);
        let mut changed: ActiveModel = self.clone().into();
        changed.refunded_cents = Set(refunded);
        changed.status =
            Set(if refunded == self.amount_cents { PaymentStatus::Refunded } else { PaymentStatus::PartiallyRefunded });
        changed.settled_at = Set(Some(now));
        changed
    }

    /// Whether it is still owed: scheduled, or failed and not yet made good.
    pub fn unpaid(&self) -> bool {
        matches!(self.status, PaymentStatus::Scheduled | PaymentStatus::Failed | PaymentStatus::PastDue)
    }

    /// What the practice kept of it: its amount once collected, less
    /// refunds. A disputed charge is not: the gateway holds the money back
    /// while the dispute is open and keeps it when it is lost (nor is it
    /// refunded again on cancellation).
    pub fn collected_cents(&self) -> i64 {
        match self.status {
            PaymentStatus::Paid
            | PaymentStatus::PaidExternal
            | PaymentStatus::Refunded
            | PaymentStatus::PartiallyRefunded => self.amount_cents - self.refunded_cents,
            _ => 0,
        }
    }
}

/// What a payment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum PaymentKind {
    /// The initial charge: the enrolment fee and the first instalment (or the paid-in-full price).
    Initial,
    /// A monthly instalment.
    Instalment,
    /// Added later (a card fee, a returned payment, a plan change).
    Supplemental,
    /// What the practice's policy says is owed when a plan is cancelled.
    Cancellation,
}

/// Where a payment stands (PLANS.md B2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Due on its day.
    Scheduled,
    /// Being charged.
    Processing,
    /// Charged.
    Paid,
    /// The charge was declined.
    Failed,
    /// Failed and not made good by its retries.
    PastDue,
    /// Paid another way (at the front desk).
    PaidExternal,
    /// Not owed any more (final).
    Cancelled,
    /// Paid back.
    Refunded,
    /// Partly paid back.
    PartiallyRefunded,
    /// Disputed with the card issuer.
    Disputed,
}

/// What a supplemental payment is for (PLANS.md B3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum SupplementalPurpose {
    /// A returned payment's fee (non-sufficient funds).
    Nsf,
    /// A card processing fee.
    CardFee,
    /// The fee the practice's policy adds when a payment's last retry fails.
    LateFee,
    /// Anything else (the note says what).
    Other,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
