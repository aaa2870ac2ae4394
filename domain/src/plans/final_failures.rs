//! What follows a payment whose last retry was declined (PLANS.md B6): the
//! practice's final-failure policy, applied once to each such payment by
//! the timed jobs: the plan keeps its benefits, goes on hold, or is charged
//! a late fee. It lives with plans (above payments) because a hold is a
//! plan's step.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};

use crate::{
    Actor, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        plan,
        plan_payment::{self, PaymentKind, PaymentStatus, SupplementalPurpose},
    },
    kernel::{practice::FinalFailure, text::dollars},
    plans::lifecycle,
    practices,
};

/// Applies the final-failure policy to every payment whose retries ran out
/// and which is still unpaid; answers how many it was applied to.
pub async fn run_due(platform: &Platform) -> DomainResult<u32> {
    let due = plan_payment::Entity::find()
        .filter(plan_payment::Column::RetriesEndedAt.is_not_null())
        .filter(plan_payment::Column::FinalFailure.is_null())
        .filter(plan_payment::Column::Status.eq(PaymentStatus::PastDue))
        .all(&platform.db)
        .await?;
    let mut applied = 0;
    for payment in due {
        if apply(platform, payment).await? {
            applied += 1;
        }
    }
    Ok(applied)
}

async fn apply(platform: &Platform, payment: plan_payment::Model) -> DomainResult<bool> {
    let scope = Scope { practice_id: payment.practice_id };
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let today = practice.today(now);
    let settings = &practice.settings.payments;
    // A late fee left unpaid does not earn another.
    let policy = match settings.final_failure {
        FinalFailure::LateFee if payment.purpose == Some(SupplementalPurpose::LateFee) => FinalFailure::Keep,
        policy => policy,
    };
    let txn = platform.begin_write().await?;
    let claimed = plan_payment::Entity::update_many()
        .col_expr(plan_payment::Column::FinalFailure, Expr::value(policy))
        .filter(plan_payment::Column::Id.eq(payment.id))
        .filter(plan_payment::Column::FinalFailure.is_null())
        .filter(plan_payment::Column::Status.eq(PaymentStatus::PastDue))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Another worker applied it, or it was paid meanwhile.
        return Ok(false);
    }
    let Some(plan) = plan::Entity::find_by_id(payment.plan_id).one(&txn).await? else { return Ok(false) };
    let why = format!("payment {} of {} is unpaid after its last retry", payment.number, dollars(payment.amount_cents));
    let mut detail = serde_json::json!({ "payment": payment.number, "policy": policy.to_string() });
    match policy {
        FinalFailure::Keep => {}
        FinalFailure::Hold => {
            let held = lifecycle::hold_for_unpaid(&txn, platform, scope, plan.clone(), today, &why).await?;
            detail["held"] = held.into();
        }
        FinalFailure::LateFee => {
            let payments =
                plan_payment::Entity::find().filter(plan_payment::Column::PlanId.eq(plan.id)).all(&txn).await?;
            let mut fee = plan_payment::scheduled(
                scope.practice_id,
                plan.id,
                plan_payment::next_number(&payments),
                PaymentKind::Supplemental,
                today,
                settings.late_fee_cents,
                now,
            );
            fee.purpose = Set(Some(SupplementalPurpose::LateFee));
            fee.note = Set(Some(format!("Late fee: {why}")));
            let fee = fee.insert(&txn).await?;
            detail["late_fee"] = serde_json::json!({ "payment": fee.number, "amount_cents": fee.amount_cents });
        }
    }
    Entry::new("payment.final_failure", &Actor::system("payments"), &Origin::default())
        .target("plan", plan.id)
        .detail(detail)
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(true)
}
