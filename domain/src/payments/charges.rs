//! Charging a payment exactly once (PLANS.md B1, B2, B5). An attempt is
//! claimed and stored `processing` in one transaction before the gateway is
//! called; the call carries the attempt's id as its idempotency key, so
//! when the answer is lost (a timeout, a 5xx, a crash) the reconciler asks
//! again with the same key and the gateway answers the first call's outcome
//! instead of charging twice.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{StreamExt, stream};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        payment_attempt::{self, AttemptStatus},
        payment_profile, plan,
        plan_payment::{self, PaymentStatus},
        practice,
    },
    deliveries::links,
    payments::{IDEMPOTENCY_WINDOW, RECONCILE_AFTER, dunning},
    ports::payments::{ChargeOutcome, ChargeRequest, GatewayError},
    practices,
};

/// Charges in flight at once in a charge run.
const IN_FLIGHT: usize = 32;

/// The currency every practice charges in.
const CURRENCY: &str = "usd";

/// What one charge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charged {
    /// Paid.
    Paid,
    /// Declined; `retry_on` says when it is tried again, if it is.
    Declined {
        /// The bank's or gateway's reason.
        reason: String,
        /// The next try.
        retry_on: Option<NaiveDate>,
    },
    /// The owner must confirm it with their bank.
    AuthenticationRequired,
    /// No answer yet: the reconciler or a webhook settles it.
    Pending,
}

/// What a charge run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ChargeRun {
    /// Payments charged.
    pub paid: u32,
    /// Payments declined (or awaiting the owner's confirmation).
    pub declined: u32,
    /// Attempts still waiting for the gateway's answer.
    pub pending: u32,
}

impl ChargeRun {
    fn count(&mut self, charged: &Charged) {
        match charged {
            Charged::Paid => self.paid += 1,
            Charged::Declined { .. } | Charged::AuthenticationRequired => self.declined += 1,
            Charged::Pending => self.pending += 1,
        }
    }
}

/// A claimed attempt, stored before the gateway is called.
struct Claim {
    scope: Scope,
    attempt: payment_attempt::Model,
    payment: plan_payment::Model,
    profile: payment_profile::Model,
}

/// Charges one payment now: staff's "charge", an owner paying what is past
/// due, or an enrolment's initial charge. `by` is recorded on the attempt.
pub async fn charge(
    platform: &Platform,
    scope: Scope,
    payment_id: Uuid,
    by: &Actor,
    origin: &Origin,
) -> DomainResult<Charged> {
    let payment = plan_payment::Entity::find_by_id(payment_id)
        .filter(plan_payment::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let chargeable = [PaymentStatus::Scheduled, PaymentStatus::Failed, PaymentStatus::PastDue];
    let claim = claim(platform, scope, &payment, &chargeable, &by.name)
        .await?
        .ok_or(DomainError::from(Code::PaymentNotChargeable))?;
    send(platform, claim, by, origin).await
}

/// Charges every payment plan `plan_id` still owes, oldest first, now
/// (an administrator's "charge remaining"). It stops at the first that is
/// not paid: a card that refused one would refuse the rest, and each
/// refusal counts against the practice with the card networks.
pub async fn charge_remaining(
    platform: &Platform,
    scope: Scope,
    plan_id: Uuid,
    by: &Actor,
    origin: &Origin,
) -> DomainResult<Vec<(Uuid, Charged)>> {
    let plan = super::plan_in(&platform.db, scope, plan_id).await?;
    let chargeable = [PaymentStatus::Scheduled, PaymentStatus::Failed, PaymentStatus::PastDue];
    let owed = plan_payment::Entity::find()
        .filter(plan_payment::Column::PlanId.eq(plan.id))
        .filter(plan_payment::Column::Status.is_in(chargeable))
        .order_by_asc(plan_payment::Column::DueOn)
        .order_by_asc(plan_payment::Column::Number)
        .all(&platform.db)
        .await?;
    if owed.is_empty() {
        return Err(DomainError::with(Code::PaymentNotChargeable, "the plan owes nothing"));
    }
    let mut charged = Vec::new();
    for payment in owed {
        // One taken by another worker meanwhile is left to it.
        let Some(claim) = claim(platform, scope, &payment, &chargeable, &by.name).await? else { continue };
        let outcome = send(platform, claim, by, origin).await?;
        let paid = outcome == Charged::Paid;
        charged.push((payment.id, outcome));
        if !paid {
            break;
        }
    }
    Ok(charged)
}

/// An owner paying a payment of their household that was declined (from
/// the app, or the emailed link; `by` says which): charged now on the plan's card.
pub async fn pay_owed(
    platform: &Platform,
    scope: Scope,
    (client_id, payment_id): (Uuid, Uuid),
    owner: &Actor,
) -> DomainResult<Charged> {
    let payment = plan_payment::Entity::find_by_id(payment_id)
        .filter(plan_payment::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let owners = plan::Entity::find_by_id(payment.plan_id)
        .filter(plan::Column::ClientId.eq(client_id))
        .one(&platform.db)
        .await?;
    if owners.is_none() {
        return Err(DomainError::NotFound);
    }
    let owed = [PaymentStatus::Failed, PaymentStatus::PastDue];
    let claim = claim(platform, scope, &payment, &owed, &owner.name)
        .await?
        .ok_or_else(|| DomainError::with(Code::PaymentNotChargeable, "only a declined payment is paid by the owner"))?;
    send(platform, claim, owner, &Origin::default()).await
}

/// The schedule's timed job: first settles attempts (and refunds) left unanswered, then
/// charges every payment due today (and every declined one due a retry)
/// of plans with auto charge on and a card on file.
pub async fn run_due(platform: &Platform) -> DomainResult<ChargeRun> {
    let mut run = reconcile(platform).await?;
    super::refunds::reconcile(platform).await?;
    let system = Actor::system("payments");
    let origin = Origin::default();
    for row in practice::Entity::find().all(&platform.db).await? {
        let practice = practices::get(platform, Scope { practice_id: row.id }).await?;
        let scope = Scope { practice_id: practice.id };
        let today = practice.today(platform.clock.now());
        let due = due_payments(platform, scope, today).await?;
        let outcomes: Vec<DomainResult<Option<Charged>>> = stream::iter(due)
            .map(|payment| {
                let (system, origin) = (&system, &origin);
                async move {
                    let expected = [payment.status];
                    match claim(platform, scope, &payment, &expected, "schedule").await? {
                        Some(claim) => send(platform, claim, system, origin).await.map(Some),
                        // Another worker took it, or it changed meanwhile.
                        None => Ok(None),
                    }
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for outcome in outcomes {
            match outcome {
                Ok(Some(charged)) => run.count(&charged),
                Ok(None) => {}
                Err(err) => tracing::warn!(error = %err, "a scheduled charge failed"),
            }
        }
    }
    Ok(run)
}

/// Asks the gateway again, with the same key, about every attempt it has
/// not answered for [`RECONCILE_AFTER`].
pub async fn reconcile(platform: &Platform) -> DomainResult<ChargeRun> {
    let mut run = ChargeRun::default();
    let before = platform.clock.now() - RECONCILE_AFTER;
    let stale = payment_attempt::Entity::find()
        .filter(payment_attempt::Column::Status.eq(AttemptStatus::Processing))
        .filter(payment_attempt::Column::StartedAt.lt(before))
        .all(&platform.db)
        .await?;
    let system = Actor::system("payments");
    let unanswerable = platform.clock.now() - IDEMPOTENCY_WINDOW;
    for attempt in stale {
        let scope = Scope { practice_id: attempt.practice_id };
        if attempt.started_at < unanswerable {
            // Its key is forgotten by now: asking again could charge twice.
            let outcome = ChargeOutcome::Declined {
                intent: None,
                code: dunning::GATEWAY_NO_ANSWER.into(),
                decline_code: None,
                message: "no answer within the gateway's 24-hour idempotency window: look the charge up there \
                          before charging again"
                    .into(),
            };
            run.count(&settle(platform, scope, attempt.id, &outcome, &system, &Origin::default()).await?);
            continue;
        }
        let payment = plan_payment::Entity::find_by_id(attempt.payment_id).one(&platform.db).await?;
        let profile = match attempt.profile_id {
            Some(id) => payment_profile::Entity::find_by_id(id).one(&platform.db).await?,
            None => None,
        };
        let (Some(payment), Some(profile)) = (payment, profile) else {
            continue;
        };
        let charged = send(platform, Claim { scope, attempt, payment, profile }, &system, &Origin::default()).await?;
        run.count(&charged);
    }
    Ok(run)
}

/// The payments a charge run takes today: due and scheduled, or declined
/// and due their retry, of plans that charge by themselves (not on hold,
/// not yet started) with a card.
async fn due_payments(platform: &Platform, scope: Scope, today: NaiveDate) -> DomainResult<Vec<plan_payment::Model>> {
    let charging_plans = Query::select()
        .column(plan::Column::Id)
        .from(plan::Entity)
        .and_where(plan::Column::PracticeId.eq(scope.practice_id))
        .and_where(plan::Column::AutoCharge.eq(true))
        .and_where(plan::Column::PaymentProfileId.is_not_null())
        .and_where(plan::Column::Status.is_not_in([plan::Status::OnHold, plan::Status::Pending]))
        .to_owned();
    let scheduled = Condition::all()
        .add(plan_payment::Column::Status.eq(PaymentStatus::Scheduled))
        .add(plan_payment::Column::DueOn.lte(today));
    let retry = Condition::all()
        .add(plan_payment::Column::Status.eq(PaymentStatus::Failed))
        .add(plan_payment::Column::RetryOn.lte(today));
    Ok(plan_payment::Entity::find()
        .filter(plan_payment::Column::PracticeId.eq(scope.practice_id))
        .filter(plan_payment::Column::PlanId.in_subquery(charging_plans))
        .filter(Condition::any().add(scheduled).add(retry))
        .all(&platform.db)
        .await?)
}

/// Moves `payment` to processing (if it is still in one of `from`) and
/// stores its attempt, together; `None` when someone else got there first.
async fn claim(
    platform: &Platform,
    scope: Scope,
    payment: &plan_payment::Model,
    from: &[PaymentStatus],
    started_by: &str,
) -> DomainResult<Option<Claim>> {
    let txn = platform.begin_write().await?;
    let plan = super::plan_in(&txn, scope, payment.plan_id).await?;
    let profile = match plan.payment_profile_id {
        Some(id) => {
            payment_profile::Entity::find_by_id(id)
                .filter(payment_profile::Column::RemovedAt.is_null())
                .one(&txn)
                .await?
        }
        None => None,
    };
    let Some(profile) = profile else {
        return Err(DomainError::with(Code::PaymentMethodRequired, "the plan has no card on file"));
    };
    let moved = plan_payment::Entity::update_many()
        .col_expr(plan_payment::Column::Status, Expr::value(PaymentStatus::Processing))
        .filter(plan_payment::Column::Id.eq(payment.id))
        .filter(plan_payment::Column::Status.is_in(from.iter().copied()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    let attempt = payment_attempt::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        payment_id: Set(payment.id),
        profile_id: Set(Some(profile.id)),
        amount_cents: Set(payment.amount_cents),
        status: Set(AttemptStatus::Processing),
        intent_ref: Set(None),
        decline_code: Set(None),
        failure: Set(None),
        started_by: Set(started_by.to_owned()),
        started_at: Set(platform.clock.now()),
        settled_at: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Some(Claim { scope, attempt, payment: payment.clone(), profile }))
}

/// Calls the gateway for a stored attempt and settles what it answered.
async fn send(platform: &Platform, claim: Claim, by: &Actor, origin: &Origin) -> DomainResult<Charged> {
    let request = ChargeRequest {
        idempotency_key: claim.attempt.id.to_string(),
        customer: claim.profile.customer_ref.clone(),
        payment_method: claim.profile.method_ref.clone(),
        amount_cents: claim.attempt.amount_cents,
        currency: CURRENCY.into(),
        metadata: vec![
            ("attempt_id".into(), claim.attempt.id.to_string()),
            ("payment_id".into(), claim.payment.id.to_string()),
            ("practice_id".into(), claim.scope.practice_id.to_string()),
        ],
    };
    let outcome = match platform.payments.charge(&request).await {
        Ok(outcome) => outcome,
        Err(GatewayError::Unavailable(why)) => {
            // Whether it charged is unknown: the attempt stays processing
            // and the reconciler asks again with the same key.
            tracing::warn!(attempt = %claim.attempt.id, %why, "the payment gateway did not answer a charge");
            return Ok(Charged::Pending);
        }
        Err(GatewayError::NotConfigured) => return Err(DomainError::from(Code::PaymentsNotConfigured)),
        Err(GatewayError::Refused { code, message }) => ChargeOutcome::Declined {
            intent: None,
            code: dunning::GATEWAY_REFUSED.into(),
            decline_code: None,
            message: format!("{code}: {message}"),
        },
    };
    settle(platform, claim.scope, claim.attempt.id, &outcome, by, origin).await
}

/// Writes what the gateway said of an attempt: the attempt, its payment
/// and its plan, and the activity entry, together. Only forward: an
/// attempt settled already (by a webhook, another worker) is left as it
/// is, except that a success the gateway reports late still makes it paid.
pub async fn settle(
    platform: &Platform,
    scope: Scope,
    attempt_id: Uuid,
    outcome: &ChargeOutcome,
    by: &Actor,
    origin: &Origin,
) -> DomainResult<Charged> {
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let today = practice.today(now);
    // The owner who paid sees the outcome on screen; others are told of a
    // decline. The link key is read before the write transaction: its first
    // use writes it.
    let told = outcome.reason().filter(|reason| dunning::told(reason) && !by.is_owner());
    let link_key = match told {
        Some(_) => Some(links::link_key(platform).await?),
        None => None,
    };
    let txn = platform.begin_write().await?;
    let attempt = payment_attempt::Entity::find_by_id(attempt_id)
        .filter(payment_attempt::Column::PracticeId.eq(scope.practice_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let forward = matches!(
        (attempt.status, outcome),
        (AttemptStatus::Processing, _)
            | (AttemptStatus::Failed | AttemptStatus::RequiresAction, ChargeOutcome::Succeeded { .. })
    );
    if !forward {
        return Ok(already(&attempt));
    }
    let payment = plan_payment::Entity::find_by_id(attempt.payment_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let (charged, attempt_status) = match outcome {
        ChargeOutcome::Processing { .. } => (Charged::Pending, AttemptStatus::Processing),
        ChargeOutcome::Succeeded { .. } => (Charged::Paid, AttemptStatus::Succeeded),
        ChargeOutcome::AuthenticationRequired { .. } => {
            (Charged::AuthenticationRequired, AttemptStatus::RequiresAction)
        }
        ChargeOutcome::Declined { .. } => {
            let reason = outcome.reason().unwrap_or("card_declined").to_owned();
            let failures = payment.failures + 1;
            let retry_on = dunning::retried(&reason)
                .then(|| dunning::next_retry(&practice.settings.payments.retry_days, failures, today))
                .flatten();
            (Charged::Declined { reason, retry_on }, AttemptStatus::Failed)
        }
    };
    let intent = match outcome {
        ChargeOutcome::Succeeded { intent }
        | ChargeOutcome::Processing { intent }
        | ChargeOutcome::AuthenticationRequired { intent } => Some(intent.clone()),
        ChargeOutcome::Declined { intent, .. } => intent.clone(),
    };
    let mut changed: payment_attempt::ActiveModel = attempt.clone().into();
    changed.status = Set(attempt_status);
    changed.intent_ref = Set(intent.clone());
    if attempt_status != AttemptStatus::Processing {
        changed.settled_at = Set(Some(now));
    }
    if let ChargeOutcome::Declined { code, decline_code, message, .. } = outcome {
        changed.decline_code = Set(Some(decline_code.clone().unwrap_or_else(|| code.clone())));
        changed.failure = Set(Some(message.clone()));
    }
    changed.update(&txn).await?;
    if charged != Charged::Pending {
        settle_payment(&txn, &payment, &charged, now).await?;
        settle_plan(&txn, payment.plan_id).await?;
        if let (Some(key), Some(reason)) = (&link_key, told) {
            let retry_on = match &charged {
                Charged::Declined { retry_on, .. } => *retry_on,
                _ => None,
            };
            dunning::tell_owner(&txn, platform, &practice, (&payment, key), reason, retry_on).await?;
        }
        let detail = serde_json::json!({
            "payment": payment.number, "amount_cents": attempt.amount_cents, "attempt": attempt.id,
            "outcome": attempt_status.to_string(), "reason": outcome.reason(), "intent": intent,
        });
        Entry::new("payment.charge", by, origin)
            .target("plan", payment.plan_id)
            .detail(detail)
            .record(&txn, platform, scope)
            .await?;
    }
    txn.commit().await?;
    Ok(charged)
}

/// What an attempt settled before came to.
fn already(attempt: &payment_attempt::Model) -> Charged {
    match attempt.status {
        AttemptStatus::Succeeded => Charged::Paid,
        AttemptStatus::Processing => Charged::Pending,
        AttemptStatus::RequiresAction => Charged::AuthenticationRequired,
        AttemptStatus::Failed => {
            Charged::Declined { reason: attempt.decline_code.clone().unwrap_or_default(), retry_on: None }
        }
    }
}

async fn settle_payment(
    conn: &impl ConnectionTrait,
    payment: &plan_payment::Model,
    charged: &Charged,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let mut changed: plan_payment::ActiveModel = payment.clone().into();
    match charged {
        // Collected another way meanwhile, or cancelled: that stands (the
        // charge shows on the attempt, for a refund).
        Charged::Paid if !payment.unpaid() && payment.status != PaymentStatus::Processing => return Ok(()),
        Charged::Paid => {
            changed.status = Set(PaymentStatus::Paid);
            changed.settled_at = Set(Some(now));
            changed.retry_on = Set(None);
        }
        Charged::Declined { retry_on, reason } => {
            changed.failures = Set(payment.failures + 1);
            changed.retry_on = Set(*retry_on);
            changed.status = Set(if retry_on.is_some() { PaymentStatus::Failed } else { PaymentStatus::PastDue });
            if retry_on.is_none() && dunning::told(reason) {
                // The practice's final-failure policy is owed (plans::final_failures applies it).
                changed.retries_ended_at = Set(Some(now));
            }
        }
        Charged::AuthenticationRequired => {
            // Waits for the owner: no retry would get past their bank.
            changed.failures = Set(payment.failures + 1);
            changed.retry_on = Set(None);
            changed.status = Set(PaymentStatus::PastDue);
        }
        Charged::Pending => return Ok(()),
    }
    changed.update(conn).await?;
    Ok(())
}

/// A plan is past due while any of its payments is failed or past due,
/// and active again once none is.
pub(crate) async fn settle_plan(conn: &impl ConnectionTrait, plan_id: Uuid) -> DomainResult<()> {
    let owing = plan_payment::Entity::find()
        .filter(plan_payment::Column::PlanId.eq(plan_id))
        .filter(plan_payment::Column::Status.is_in([PaymentStatus::Failed, PaymentStatus::PastDue]))
        .one(conn)
        .await?
        .is_some();
    let (from, to) = if owing {
        (plan::Status::Active, plan::Status::PastDue)
    } else {
        (plan::Status::PastDue, plan::Status::Active)
    };
    plan::Entity::update_many()
        .col_expr(plan::Column::Status, Expr::value(to))
        .filter(plan::Column::Id.eq(plan_id))
        .filter(plan::Column::Status.eq(from))
        .exec(conn)
        .await?;
    Ok(())
}
