//! What staff do to a plan's payments by hand (PLANS.md B3, seed 000):
//! managers mark a payment paid at the desk and undo it; administrators
//! turn a plan's auto charge off (anyone who may choose its card turns it
//! back on). Each is an activity entry on the plan.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        plan,
        plan_payment::{self, PaymentStatus},
    },
    kernel::caller::Authorized,
    payments::charges,
};

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
    Entry::new("plan.auto_charge", &who.actor, origin)
        .approved_by(who.approver.as_ref())
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
    Entry::new(action, &who.actor, origin)
        .approved_by(who.approver.as_ref())
        .target("plan", payment.plan_id)
        .detail(serde_json::json!({ "payment": payment.number, "amount_cents": payment.amount_cents }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(payment.plan_id)
}
