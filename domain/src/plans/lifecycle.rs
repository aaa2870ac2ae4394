//! What managers do to a plan after enrolment (PLANS.md A7–A9): hold it and
//! release it, change it to another plan, cancel it. Each step writes the
//! plan, its payments and its activity entry in one transaction, and keeps
//! one sum true: what was collected plus what is still scheduled equals
//! what the plan's current terms say is owed, less what a release forgave
//! (after a cancellation, what the practice's policy says).

use chrono::{Months, NaiveDate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        pet,
        plan::{self, Billing, HoldReason, Status},
        plan_add_on,
        plan_agreement::Occasion,
        plan_payment::{self, PaymentKind, PaymentStatus},
        plan_template_version,
    },
    kernel::{caller::Authorized, practice::CancellationPolicy, text::dollars},
    payments::refunds,
    performance,
    plans::{
        agreements, enrolment,
        records::{self, PlanRecord},
        templates,
    },
    practices,
};

/// The longest hold note or cancellation reason.
pub const MAX_REASON_CHARS: usize = 500;

/// What a release does with the payments that fell due during the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// Charge them now: they are due today.
    Charge,
    /// Move them past the term, a month apart after the last payment.
    MoveAfterTerm,
    /// Cancel them: the owner no longer owes them.
    Cancel,
}

impl Missed {
    fn as_str(self) -> &'static str {
        match self {
            Missed::Charge => "charge",
            Missed::MoveAfterTerm => "move_after_term",
            Missed::Cancel => "cancel",
        }
    }
}

/// What a cancellation does with what the owner paid beyond what is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refund {
    /// Paid back through the gateway to the cards that paid it, newest
    /// payment first; refused when the cards paid less than is due back.
    Card,
    /// The practice paid it back outside Petbridge (cash, its own terminal):
    /// the payments are recorded as refunded.
    Elsewhere,
    /// The practice keeps it (the manager's decision, on the log).
    Keep,
}

impl Refund {
    fn as_str(self) -> &'static str {
        match self {
            Refund::Card => "card",
            Refund::Elsewhere => "elsewhere",
            Refund::Keep => "keep",
        }
    }
}

/// A manager's cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    /// Why (required, for the log and the owner's file).
    pub reason: String,
    /// The figure owed, in place of the policy's (required when the policy
    /// is the manager's figure).
    pub owed_cents: Option<i64>,
    /// Needed when the owner paid more than is owed.
    pub refund: Option<Refund>,
}

/// What cancelling would do, with its working shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelPreview {
    /// The practice's policy.
    pub policy: CancellationPolicy,
    /// Collected so far, less refunds.
    pub collected_cents: i64,
    /// Still scheduled or failed: every such payment is cancelled.
    pub unpaid_cents: i64,
    /// The retail value of the items used (posted by the usage work; 0 until then).
    pub used_retail_cents: i64,
    /// The enrolment fee, received with the plan.
    pub initial_fee_cents: i64,
    /// What the owner still owes: one payment due today.
    pub owed_cents: i64,
    /// What the owner paid beyond what is owed.
    pub refund_due_cents: i64,
    /// Each step of the sum, in words.
    pub working: Vec<String>,
}

/// Puts plan `id` on hold: its payments stop until a manager releases it.
pub async fn hold(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    reason: HoldReason,
    note: Option<&str>,
) -> DomainResult<PlanRecord> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_REASON_CHARS) {
        return Err(DomainError::with(Code::InvalidNote, "a hold note has at most 500 characters"));
    }
    if reason == HoldReason::Other && note.is_none() {
        return Err(DomainError::with(Code::ReasonRequired, "say why the plan is on hold"));
    }
    let today = today(platform, scope).await?;
    let txn = platform.begin_write().await?;
    let plan = records::find(&txn, scope, id).await?;
    let who_held = (&who.actor, who.approver.as_ref());
    let held = put_on_hold(&txn, platform, scope, who_held, origin, plan, today, reason, note).await?;
    let record = records::load(&txn, held).await?;
    txn.commit().await?;
    Ok(record)
}

/// Puts the plans in progress of a pet that died on hold, on `conn` (the
/// sync's transaction that recorded the death).
pub async fn hold_for_deceased_pet(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    pet_id: Uuid,
    today: NaiveDate,
) -> DomainResult<()> {
    let plans = plan::Entity::find()
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .filter(plan::Column::PetId.eq(pet_id))
        .filter(plan::Column::Status.is_in([Status::Pending, Status::Active, Status::PastDue]))
        .all(conn)
        .await?;
    let system = Actor::system("PMS sync");
    for plan in plans {
        let origin = Origin::default();
        put_on_hold(conn, platform, scope, (&system, None), &origin, plan, today, HoldReason::DeceasedPet, None)
            .await?;
    }
    Ok(())
}

/// Puts plan `plan` on hold for a payment whose retries are used up (the
/// practice's final-failure policy), on `conn`; `false` when it cannot be
/// held (on hold already, or finished).
pub(crate) async fn hold_for_unpaid(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    plan: plan::Model,
    today: NaiveDate,
    note: &str,
) -> DomainResult<bool> {
    if plan.status == Status::OnHold || writable(&plan).is_err() {
        return Ok(false);
    }
    let system = Actor::system("payments");
    let origin = Origin::default();
    put_on_hold(conn, platform, scope, (&system, None), &origin, plan, today, HoldReason::Financial, Some(note))
        .await?;
    Ok(true)
}

#[allow(clippy::too_many_arguments, reason = "one step shared by a manager's hold and the sync's")]
async fn put_on_hold(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    (actor, approver): (&Actor, Option<&Actor>),
    origin: &Origin,
    plan: plan::Model,
    today: NaiveDate,
    reason: HoldReason,
    note: Option<&str>,
) -> DomainResult<plan::Model> {
    writable(&plan)?;
    if plan.status == Status::OnHold {
        return Err(DomainError::from(Code::PlanOnHold));
    }
    let id = plan.id;
    let before = plan.status;
    let mut held: plan::ActiveModel = plan.into();
    held.status = Set(Status::OnHold);
    held.hold_reason = Set(Some(reason));
    held.held_on = Set(Some(today));
    let held = held.update(conn).await?;
    Entry::new("plan.hold", actor, origin)
        .approved_by(approver)
        .target("plan", id)
        .detail(serde_json::json!({ "reason": reason.to_string(), "note": note, "was": before.to_string() }))
        .record(conn, platform, scope)
        .await?;
    Ok(held)
}

/// Releases plan `id` from its hold, doing `missed` with the payments that
/// fell due while it was held.
pub async fn release(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    missed: Missed,
) -> DomainResult<PlanRecord> {
    let Step { txn, plan, today, now } = Step::open(platform, scope, id).await?;
    let (Status::OnHold, Some(held_on)) = (plan.status, plan.held_on) else {
        return Err(DomainError::from(Code::PlanNotOnHold));
    };
    let payments = records::payments_of(&txn, plan.id).await?;
    let fell_due: Vec<&plan_payment::Model> = payments
        .iter()
        .filter(|p| p.status == PaymentStatus::Scheduled && p.due_on >= held_on && p.due_on <= today)
        .collect();
    let missed_cents: i64 = fell_due.iter().map(|p| p.amount_cents).sum();
    let mut last_due = payments.iter().filter(|p| p.status != PaymentStatus::Cancelled).map(|p| p.due_on).max();
    for payment in &fell_due {
        let mut changed: plan_payment::ActiveModel = (*payment).clone().into();
        match missed {
            Missed::Charge => changed.due_on = Set(today),
            Missed::MoveAfterTerm => {
                // The first moved payment falls a month after the later of the
                // term's end and the last payment; each next one a month on.
                let after = last_due.unwrap_or(plan.ends_on).max(plan.ends_on);
                let moved =
                    after.checked_add_months(Months::new(1)).ok_or(DomainError::from(Code::InvalidStartDate))?;
                last_due = Some(moved);
                changed.due_on = Set(moved);
            }
            Missed::Cancel => {
                changed.status = Set(PaymentStatus::Cancelled);
                changed.settled_at = Set(Some(now));
            }
        }
        changed.update(&txn).await?;
    }
    let still_failed = payments.iter().any(|p| matches!(p.status, PaymentStatus::Failed | PaymentStatus::PastDue));
    let status = if plan.starts_on > today {
        Status::Pending
    } else if still_failed {
        Status::PastDue
    } else {
        Status::Active
    };
    let forgiven = plan.forgiven_cents + if missed == Missed::Cancel { missed_cents } else { 0 };
    let mut released: plan::ActiveModel = plan.into();
    released.status = Set(status);
    released.hold_reason = Set(None);
    released.held_on = Set(None);
    released.forgiven_cents = Set(forgiven);
    let plan = released.update(&txn).await?;
    enrolment::finish(
        txn,
        platform,
        scope,
        (who, origin),
        "plan.release",
        plan,
        serde_json::json!({
            "missed": missed.as_str(),
            "payments": fell_due.iter().map(|p| p.number).collect::<Vec<_>>(),
            "missed_cents": missed_cents,
            "held_since": held_on,
        }),
    )
    .await
}

/// Changes plan `id` to the current version of template `template_id`
/// (PLANS.md A8): the start day stays, and the difference in price is
/// spread over the payments still scheduled, the leftover cent on the last.
/// With none left (a plan paid in full), a rise is one supplemental payment.
pub async fn change(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    template_id: Uuid,
) -> DomainResult<PlanRecord> {
    let Step { txn, plan, today, now } = Step::open(platform, scope, id).await?;
    let old =
        plan_template_version::Entity::find_by_id(plan.version_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let template = templates::find(&txn, scope, template_id).await?;
    let sold = templates::at_version(&txn, template.clone(), template.current_version).await?;
    enrolment::still_sold(&sold)?;
    if sold.version.id == old.id {
        return Err(DomainError::from(Code::PlanUnchanged));
    }
    if sold.version.term_months != old.term_months {
        return Err(DomainError::with(
            Code::PlanTermDiffers,
            format!(
                "{} runs {} months; this plan runs {}",
                sold.version.name, sold.version.term_months, old.term_months
            ),
        ));
    }
    let pet = pet::Entity::find_by_id(plan.pet_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    enrolment::fits(&pet, &sold.version, today.max(plan.starts_on))?;
    // Add-ons are items of the old version: the change drops them, and their price with them.
    let add_ons = enrolment::add_ons_monthly(&txn, plan.id).await? * i64::from(old.term_months);
    let difference = term_price(&sold.version, plan.billing) - term_price(&old, plan.billing) - add_ons;
    let payments = records::payments_of(&txn, plan.id).await?;
    let scheduled: Vec<&plan_payment::Model> =
        payments.iter().filter(|p| p.status == PaymentStatus::Scheduled).collect();
    let mut adjusted = Vec::new();
    let mut supplemental = None;
    if scheduled.is_empty() {
        if difference < 0 {
            return Err(DomainError::from(Code::ChangeNeedsRefund));
        }
        if difference > 0 {
            let number = plan_payment::next_number(&payments);
            supplemental = Some(number);
            plan_payment::scheduled(
                scope.practice_id,
                plan.id,
                number,
                PaymentKind::Supplemental,
                today,
                difference,
                now,
            )
            .insert(&txn)
            .await?;
        }
    } else {
        let shares = spread(difference, scheduled.len());
        if scheduled.iter().zip(&shares).any(|(p, share)| p.amount_cents + share < 0) {
            return Err(DomainError::from(Code::ChangeNeedsRefund));
        }
        for (payment, share) in scheduled.into_iter().zip(shares) {
            let mut changed: plan_payment::ActiveModel = payment.clone().into();
            let amount = payment.amount_cents + share;
            changed.amount_cents = Set(amount);
            if amount == 0 {
                // Nothing left to collect: the payment is not owed any more.
                changed.status = Set(PaymentStatus::Cancelled);
                changed.settled_at = Set(Some(now));
            }
            changed.update(&txn).await?;
            adjusted.push(serde_json::json!({ "number": payment.number, "by_cents": share }));
        }
    }
    if difference > 0
        && let Some(staff) = who.actor.id
    {
        let points = practices::get(platform, scope).await?.settings.plan_points.upgrade;
        let reason = format!("upgraded {} to {}", pet.name, sold.version.name);
        performance::award_plan_points(&txn, platform, scope, staff, (points, Some(plan.id)), &reason).await?;
    }
    let mut changed: plan::ActiveModel = plan.into();
    changed.template_id = Set(sold.template.id);
    changed.version_id = Set(sold.version.id);
    plan_add_on::Entity::delete_many().filter(plan_add_on::Column::PlanId.eq(id)).exec(&txn).await?;
    let plan = changed.update(&txn).await?;
    agreements::issue(&txn, platform, &plan, Occasion::Change, &who.actor).await?;
    let from = templates::find(&txn, scope, old.template_id).await?;
    enrolment::finish(
        txn,
        platform,
        scope,
        (who, origin),
        "plan.change",
        plan,
        serde_json::json!({
            "from": { "template": from.code, "version": old.version, "name": old.name },
            "to": { "template": sold.template.code, "version": sold.version.version, "name": sold.version.name },
            "difference_cents": difference,
            "spread": adjusted,
            "supplemental_payment": supplemental,
            "add_ons_dropped_cents": add_ons,
        }),
    )
    .await
}

/// What cancelling plan `id` would do under the practice's policy, or with
/// the manager's `figure`.
pub async fn preview_cancel(
    platform: &Platform,
    scope: Scope,
    id: Uuid,
    figure: Option<i64>,
) -> DomainResult<CancelPreview> {
    let policy = practices::get(platform, scope).await?.settings.plan_cancellation;
    let plan = records::find(&platform.db, scope, id).await?;
    writable(&plan)?;
    let payments = records::payments_of(&platform.db, plan.id).await?;
    cancellation(policy, &plan, &payments, 0, figure)
}

/// Cancels plan `id` (PLANS.md A9): every payment still owed is cancelled in
/// the same step, and what the policy says is owed becomes one payment due
/// today.
pub async fn cancel(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    request: Cancellation,
) -> DomainResult<PlanRecord> {
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(DomainError::with(Code::ReasonRequired, "give the reason for cancelling, up to 500 characters"));
    }
    let settings = practices::get(platform, scope).await?.settings;
    let Step { txn, plan, today, now } = Step::open(platform, scope, id).await?;
    let payments = records::payments_of(&txn, plan.id).await?;
    let preview = cancellation(settings.plan_cancellation, &plan, &payments, 0, request.owed_cents)?;
    if preview.refund_due_cents > 0 && request.refund.is_none() {
        return Err(DomainError::with(
            Code::RefundChoiceRequired,
            format!(
                "the owner paid {} cents beyond what is owed: say whether it was refunded",
                preview.refund_due_cents
            ),
        ));
    }
    let mut cancelled = Vec::new();
    for payment in payments.iter().filter(|p| p.unpaid()) {
        let mut changed: plan_payment::ActiveModel = payment.clone().into();
        changed.status = Set(PaymentStatus::Cancelled);
        changed.settled_at = Set(Some(now));
        changed.update(&txn).await?;
        cancelled.push(payment.number);
    }
    if preview.owed_cents > 0 {
        let number = plan_payment::next_number(&payments);
        plan_payment::scheduled(
            scope.practice_id,
            plan.id,
            number,
            PaymentKind::Cancellation,
            today,
            preview.owed_cents,
            now,
        )
        .insert(&txn)
        .await?;
    }
    let refund = request.refund.filter(|_| preview.refund_due_cents > 0);
    let refunds = match refund {
        Some(Refund::Card) => {
            refunds::claim(&txn, scope, &payments, preview.refund_due_cents, (&who.actor, now)).await?
        }
        Some(Refund::Elsewhere) => {
            refund_newest_first(&txn, &payments, preview.refund_due_cents, now).await?;
            Vec::new()
        }
        Some(Refund::Keep) | None => Vec::new(),
    };
    // Points for a sale that did not last are taken back.
    let reversal_days = i64::from(settings.plan_points.reversal_days);
    let points_taken_back = if now - plan.created_at <= chrono::Duration::days(reversal_days) {
        let reason = format!("plan cancelled within {reversal_days} days of its sale");
        performance::take_back_plan_points(&txn, platform, scope, plan.id, &reason).await?
    } else {
        0
    };
    let mut closed: plan::ActiveModel = plan.into();
    closed.status = Set(Status::Cancelled);
    closed.cancelled_at = Set(Some(now));
    closed.cancel_reason = Set(Some(reason.to_owned()));
    closed.hold_reason = Set(None);
    closed.held_on = Set(None);
    let plan = closed.update(&txn).await?;
    let record = enrolment::finish(
        txn,
        platform,
        scope,
        (who, origin),
        "plan.cancel",
        plan,
        serde_json::json!({
            "reason": reason,
            "policy": preview.policy.to_string(),
            "owed_cents": preview.owed_cents,
            "refund_due_cents": preview.refund_due_cents,
            "refund": refund.map(Refund::as_str),
            "cancelled_payments": cancelled,
            "points_taken_back": points_taken_back,
            "working": preview.working,
        }),
    )
    .await?;
    if refunds.is_empty() {
        return Ok(record);
    }
    // Sent once the cancellation stands; what the gateway does not answer
    // now, the reconciler asks again.
    refunds::send(platform, refunds, &who.actor, origin).await;
    records::get(platform, scope, record.plan.id).await
}

/// The sum a cancellation owes, pure so the preview and the cancellation
/// can never disagree.
pub fn cancellation(
    policy: CancellationPolicy,
    plan: &plan::Model,
    payments: &[plan_payment::Model],
    used_retail_cents: i64,
    figure: Option<i64>,
) -> DomainResult<CancelPreview> {
    let collected: i64 = payments.iter().map(plan_payment::Model::collected_cents).sum();
    let unpaid: i64 = payments.iter().filter(|p| p.unpaid()).map(|p| p.amount_cents).sum();
    let fee = plan.initial_fee_cents;
    let received = used_retail_cents + fee;
    let mut working = vec![
        format!("Collected so far: {}", dollars(collected)),
        format!("Still scheduled (all cancelled): {}", dollars(unpaid)),
        format!("Retail value of the items used: {}", dollars(used_retail_cents)),
        format!("Enrolment fee, received with the plan: {}", dollars(fee)),
    ];
    let usage_owed = (received - collected).max(0);
    let overpaid = (collected - received).max(0);
    let (owed, refund) = match (figure, policy) {
        (Some(figure), _) => {
            if !(0..=templates::MAX_PRICE_CENTS).contains(&figure) {
                return Err(DomainError::with(Code::InvalidPrice, "the figure owed is 0 to 10,000,000 cents"));
            }
            working.push(format!("The manager's figure: {} owed", dollars(figure)));
            (figure, 0)
        }
        (None, CancellationPolicy::ManagerFigure) => return Err(DomainError::from(Code::OwedFigureRequired)),
        (None, CancellationPolicy::RemainingPayments) => {
            working.push(format!("Policy, the remaining payments: {} owed", dollars(unpaid)));
            (unpaid, 0)
        }
        (None, CancellationPolicy::UsageLessPaid) => {
            working.push(format!(
                "Policy, usage less paid: {} + {} − {} → {} owed",
                dollars(used_retail_cents),
                dollars(fee),
                dollars(collected),
                dollars(usage_owed)
            ));
            (usage_owed, overpaid)
        }
        (None, CancellationPolicy::Lesser) => {
            let owed = unpaid.min(usage_owed);
            working.push(format!(
                "Policy, the lesser of the remaining payments ({}) and usage less paid ({}): {} owed",
                dollars(unpaid),
                dollars(usage_owed),
                dollars(owed)
            ));
            (owed, overpaid)
        }
        (None, CancellationPolicy::Nothing) => {
            working.push("Policy, nothing more is owed".to_owned());
            (0, 0)
        }
    };
    if refund > 0 {
        working.push(format!("Paid beyond what was received: {} to refund", dollars(refund)));
    }
    Ok(CancelPreview {
        policy,
        collected_cents: collected,
        unpaid_cents: unpaid,
        used_retail_cents,
        initial_fee_cents: fee,
        owed_cents: owed,
        refund_due_cents: refund,
        working,
    })
}

/// `total` cents in `parts` shares that sum to it exactly: equal shares,
/// the leftover on the last.
pub fn spread(total: i64, parts: usize) -> Vec<i64> {
    let Ok(n) = i64::try_from(parts) else { return Vec::new() };
    if n == 0 {
        return Vec::new();
    }
    let share = total / n;
    let mut shares = vec![share; parts];
    if let Some(last) = shares.last_mut() {
        *last += total - share * n;
    }
    shares
}

/// What a version's term costs, the enrolment fee aside.
pub fn term_price(version: &plan_template_version::Model, billing: Billing) -> i64 {
    match billing {
        Billing::Monthly => version.monthly_price_cents * i64::from(version.term_months),
        Billing::PaidInFull => version.paid_in_full_price_cents,
    }
}

/// Marks collected payments refunded, newest first, until `cents` are.
async fn refund_newest_first(
    txn: &DatabaseTransaction,
    payments: &[plan_payment::Model],
    mut cents: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> DomainResult<()> {
    for payment in plan_payment::newest_collected_first(payments) {
        if cents == 0 {
            break;
        }
        let take = cents.min(payment.collected_cents());
        cents -= take;
        payment.paid_back(take, now).update(txn).await?;
    }
    Ok(())
}

/// A manager's step on a plan that is not read-only: its write
/// transaction, the plan as read in it, and the practice's day and time.
struct Step {
    txn: DatabaseTransaction,
    plan: plan::Model,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
}

impl Step {
    async fn open(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<Self> {
        let today = today(platform, scope).await?;
        let now = platform.clock.now();
        let txn = platform.begin_write().await?;
        let plan = records::find(&txn, scope, id).await?;
        writable(&plan)?;
        Ok(Self { txn, plan, today, now })
    }
}

/// A cancelled plan is read-only, and one whose term ended has nothing left to change.
fn writable(plan: &plan::Model) -> DomainResult<()> {
    match plan.status {
        Status::Cancelled => Err(DomainError::from(Code::PlanCancelled)),
        Status::Completed => Err(DomainError::from(Code::PlanEnded)),
        _ => Ok(()),
    }
}

async fn today(platform: &Platform, scope: Scope) -> DomainResult<NaiveDate> {
    Ok(practices::get(platform, scope).await?.today(platform.clock.now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_sums_exactly_with_the_leftover_on_the_last() {
        assert_eq!(spread(1_000, 3), vec![333, 333, 334]);
        assert_eq!(spread(-7, 3), vec![-2, -2, -3]);
        assert_eq!(spread(5, 1), vec![5]);
        assert!(spread(5, 0).is_empty());
        for (total, parts) in [(1, 7), (-1, 7), (99_999, 11), (-12_345, 4)] {
            assert_eq!(spread(total, parts).iter().sum::<i64>(), total);
        }
    }
}
