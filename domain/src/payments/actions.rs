//! What staff do to a plan's payments by hand (PLANS.md B3, seed 000):
//! managers mark a payment paid at the desk and undo it; administrators
//! turn a plan's auto charge off (anyone who may choose its card turns it
//! back on) and add supplemental payments. Each is an activity entry on
//! the plan.

use chrono::{Days, NaiveDate};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        plan,
        plan_payment::{self, PaymentKind, PaymentStatus, SupplementalPurpose},
    },
    kernel::caller::Authorized,
    payments::charges,
    practices,
};

/// The most one supplemental payment asks for, in cents.
const MAX_SUPPLEMENTAL_CENTS: i64 = 10_000_000;
/// How far ahead a supplemental payment may fall due.
const MAX_DAYS_AHEAD: u64 = 366;
/// The longest note on a supplemental payment.
const MAX_NOTE_CHARS: usize = 500;

/// A payment added to a plan's schedule by an administrator (PLANS.md B3):
/// a returned payment's fee, a card fee, or anything else with a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supplemental {
    /// What it is for.
    pub purpose: SupplementalPurpose,
    /// Its amount in cents.
    pub amount_cents: i64,
    /// Its day; the practice's today when not given.
    pub due_on: Option<NaiveDate>,
    /// Staff's words (required when the purpose is `other`).
    pub note: Option<String>,
    /// A payment still owed that this one takes the place of: it is
    /// cancelled in the same step (cancelling a payment is final).
    pub replaces: Option<Uuid>,
}

/// Turns a plan's auto charge on or off; answers the plan's id.
pub async fn set_auto_charge(
    platform: &Platform,
    scope: Scope,
    (who, origin): (&Authorized, &Origin),
    plan_id: Uuid,
    on: bool,
) -> DomainResult<Uuid> {
    let txn = platform.begin_write().await?;
    let plan = super::plan_in(&txn, scope, plan_id).await?;
    let mut changed: plan::ActiveModel = plan.clone().into();
    changed.auto_charge = Set(on);
    changed.update(&txn).await?;
    Entry::authorized("plan.auto_charge", who, origin)
        .target("plan", plan.id)
        .detail(serde_json::json!({ "on": on }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(plan.id)
}

/// Marks a payment still owed as paid at the desk (`paid` true), or undoes
/// that (`paid` false: it is owed again, on its day); answers its plan's id.
pub async fn mark_paid_externally(
    platform: &Platform,
    scope: Scope,
    (who, origin): (&Authorized, &Origin),
    payment_id: Uuid,
    paid: bool,
) -> DomainResult<Uuid> {
    let txn = platform.begin_write().await?;
    let payment = plan_payment::Entity::find_by_id(payment_id)
        .filter(plan_payment::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut changed: plan_payment::ActiveModel = payment.clone().into();
    if paid {
        if !payment.unpaid() {
            return Err(DomainError::with(Code::PaymentNotChargeable, "only a payment still owed is paid at the desk"));
        }
        changed.status = Set(PaymentStatus::PaidExternal);
        changed.settled_at = Set(Some(platform.clock.now()));
        changed.retry_on = Set(None);
    } else {
        if payment.status != PaymentStatus::PaidExternal {
            return Err(DomainError::with(Code::PaymentNotChargeable, "only a payment paid at the desk is undone"));
        }
        changed.status = Set(PaymentStatus::Scheduled);
        changed.settled_at = Set(None);
        changed.failures = Set(0);
    }
    changed.update(&txn).await?;
    charges::settle_plan(&txn, payment.plan_id).await?;
    let action = if paid { "payment.paid_externally" } else { "payment.paid_externally_undone" };
    Entry::authorized(action, who, origin)
        .target("plan", payment.plan_id)
        .detail(serde_json::json!({ "payment": payment.number, "amount_cents": payment.amount_cents }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(payment.plan_id)
}

/// Adds a supplemental payment to plan `plan_id`; answers the new payment's id.
pub async fn add_supplemental(
    platform: &Platform,
    scope: Scope,
    (who, origin): (&Authorized, &Origin),
    plan_id: Uuid,
    supplemental: Supplemental,
) -> DomainResult<Uuid> {
    let note = supplemental.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let now = platform.clock.now();
    let today = practices::get(platform, scope).await?.today(now);
    let due_on = supplemental.due_on.unwrap_or(today);
    let latest = today.checked_add_days(Days::new(MAX_DAYS_AHEAD)).unwrap_or(today);
    let valid = (1..=MAX_SUPPLEMENTAL_CENTS).contains(&supplemental.amount_cents)
        && (today..=latest).contains(&due_on)
        && note.is_none_or(|n| n.chars().count() <= MAX_NOTE_CHARS)
        && (supplemental.purpose != SupplementalPurpose::Other || note.is_some());
    if !valid {
        return Err(DomainError::from(Code::InvalidSupplemental));
    }
    let txn = platform.begin_write().await?;
    let plan = super::plan_in(&txn, scope, plan_id).await?;
    let replaced = match supplemental.replaces {
        Some(id) => {
            let payment = plan_payment::Entity::find_by_id(id)
                .filter(plan_payment::Column::PlanId.eq(plan.id))
                .lock_exclusive()
                .one(&txn)
                .await?
                .ok_or(DomainError::NotFound)?;
            // Only while it is still owed: a charge in flight or made stands.
            let cancelled = plan_payment::Entity::update_many()
                .col_expr(plan_payment::Column::Status, Expr::value(PaymentStatus::Cancelled))
                .col_expr(plan_payment::Column::SettledAt, Expr::value(Some(now)))
                .col_expr(plan_payment::Column::RetryOn, Expr::value(Option::<NaiveDate>::None))
                .filter(plan_payment::Column::Id.eq(payment.id))
                .filter(plan_payment::Column::Status.is_in([
                    PaymentStatus::Scheduled,
                    PaymentStatus::Failed,
                    PaymentStatus::PastDue,
                ]))
                .exec(&txn)
                .await?;
            if cancelled.rows_affected != 1 {
                return Err(DomainError::from(Code::PaymentNotOwed));
            }
            Some(payment)
        }
        None => None,
    };
    let payments = plan_payment::Entity::find().filter(plan_payment::Column::PlanId.eq(plan.id)).all(&txn).await?;
    let number = plan_payment::next_number(&payments);
    let mut row = plan_payment::scheduled(
        scope.practice_id,
        plan.id,
        number,
        PaymentKind::Supplemental,
        due_on,
        supplemental.amount_cents,
        now,
    );
    row.purpose = Set(Some(supplemental.purpose));
    row.note = Set(note.map(str::to_owned));
    row.replaces_id = Set(replaced.as_ref().map(|p| p.id));
    let added = row.insert(&txn).await?;
    charges::settle_plan(&txn, plan.id).await?;
    Entry::authorized("payment.supplemental", who, origin)
        .target("plan", plan.id)
        .detail(serde_json::json!({
            "payment": added.number, "purpose": supplemental.purpose.to_string(),
            "amount_cents": added.amount_cents, "due_on": added.due_on, "note": note,
            "replaces": replaced.as_ref().map(|p| p.number),
        }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(added.id)
}
