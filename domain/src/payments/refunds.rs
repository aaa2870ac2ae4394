//! Paying money back to the card it came from (PLANS.md A9): what a
//! cancellation owes the owner. Like a charge, each refund is stored
//! `processing` in the step that decides it, then sent with its id as the
//! idempotency key; a lost answer is asked again by the reconciler, so a
//! refund is never paid twice.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        payment_attempt::{self, AttemptStatus},
        payment_refund, plan_payment,
    },
    payments::{IDEMPOTENCY_WINDOW, RECONCILE_AFTER},
    ports::payments::{GatewayError, RefundRequest},
};

/// Stores, on `conn` (the cancellation's transaction), refunds of `cents`
/// to the cards that paid `payments`, newest payment first. Refused with
/// `refund_beyond_card_charges` when the cards were charged less than that.
/// Send them with [`send`] once the transaction is committed.
pub async fn claim(
    conn: &impl ConnectionTrait,
    scope: Scope,
    payments: &[plan_payment::Model],
    mut cents: i64,
    (by, now): (&Actor, DateTime<Utc>),
) -> DomainResult<Vec<payment_refund::Model>> {
    let mut claimed = Vec::new();
    for payment in plan_payment::newest_collected_first(payments) {
        if cents == 0 {
            break;
        }
        let Some(charge) = card_charge(conn, payment.id).await? else { continue };
        let open = open_refunds(conn, payment.id).await?;
        let refundable = payment.collected_cents().min(charge.amount_cents) - open;
        let take = cents.min(refundable);
        if take <= 0 {
            continue;
        }
        cents -= take;
        let refund = payment_refund::ActiveModel {
            id: Set(Uuid::new_v4()),
            practice_id: Set(scope.practice_id),
            payment_id: Set(payment.id),
            attempt_id: Set(charge.id),
            amount_cents: Set(take),
            status: Set(AttemptStatus::Processing),
            refund_ref: Set(None),
            failure: Set(None),
            started_by: Set(by.name.clone()),
            started_at: Set(now),
            settled_at: Set(None),
        }
        .insert(conn)
        .await?;
        claimed.push(refund);
    }
    if cents > 0 {
        return Err(DomainError::with(
            Code::RefundBeyondCardCharges,
            format!("{cents} cents of it were not charged to a card here: record that part as refunded at the desk"),
        ));
    }
    Ok(claimed)
}

/// The succeeded card charge that paid payment `payment_id`, if one did.
async fn card_charge(conn: &impl ConnectionTrait, payment_id: Uuid) -> DomainResult<Option<payment_attempt::Model>> {
    Ok(payment_attempt::Entity::find()
        .filter(payment_attempt::Column::PaymentId.eq(payment_id))
        .filter(payment_attempt::Column::Status.eq(AttemptStatus::Succeeded))
        .filter(payment_attempt::Column::IntentRef.is_not_null())
        .order_by_desc(payment_attempt::Column::StartedAt)
        .one(conn)
        .await?)
}

/// Cents of payment `payment_id` being paid back already, not yet settled.
async fn open_refunds(conn: &impl ConnectionTrait, payment_id: Uuid) -> DomainResult<i64> {
    Ok(payment_refund::Entity::find()
        .filter(payment_refund::Column::PaymentId.eq(payment_id))
        .filter(payment_refund::Column::Status.eq(AttemptStatus::Processing))
        .all(conn)
        .await?
        .iter()
        .map(|r| r.amount_cents)
        .sum())
}

/// Sends stored refunds to the gateway and settles what it answers. One the
/// gateway does not answer stays `processing` for the reconciler.
pub async fn send(platform: &Platform, refunds: Vec<payment_refund::Model>, by: &Actor, origin: &Origin) {
    for refund in refunds {
        let id = refund.id;
        if let Err(err) = send_one(platform, refund, by, origin).await {
            tracing::warn!(refund = %id, error = %err, "a refund could not be settled");
        }
    }
}

async fn send_one(
    platform: &Platform,
    refund: payment_refund::Model,
    by: &Actor,
    origin: &Origin,
) -> DomainResult<AttemptStatus> {
    let charge =
        payment_attempt::Entity::find_by_id(refund.attempt_id).one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    let Some(intent) = charge.intent_ref else { return Err(DomainError::NotFound) };
    let request = RefundRequest { idempotency_key: refund.id.to_string(), intent, amount_cents: refund.amount_cents };
    let answer = match platform.payments.refund(&request).await {
        Ok(refund_ref) => Ok(refund_ref),
        Err(GatewayError::Unavailable(why)) => {
            tracing::warn!(refund = %refund.id, %why, "the payment gateway did not answer a refund");
            return Ok(AttemptStatus::Processing);
        }
        Err(err) => Err(err.to_string()),
    };
    settle(platform, refund, answer, by, origin).await
}

/// Writes the gateway's answer: the refund, and on success its payment
/// (refunded, or partly), with the activity entry, together. Only forward.
async fn settle(
    platform: &Platform,
    refund: payment_refund::Model,
    answer: Result<String, String>,
    by: &Actor,
    origin: &Origin,
) -> DomainResult<AttemptStatus> {
    let scope = Scope { practice_id: refund.practice_id };
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let refund =
        payment_refund::Entity::find_by_id(refund.id).lock_exclusive().one(&txn).await?.ok_or(DomainError::NotFound)?;
    if refund.status != AttemptStatus::Processing {
        return Ok(refund.status);
    }
    let payment = plan_payment::Entity::find_by_id(refund.payment_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let mut changed: payment_refund::ActiveModel = refund.clone().into();
    changed.settled_at = Set(Some(now));
    let (status, action) = match &answer {
        Ok(refund_ref) => {
            changed.refund_ref = Set(Some(refund_ref.clone()));
            payment.paid_back(refund.amount_cents, now).update(&txn).await?;
            (AttemptStatus::Succeeded, "payment.refund")
        }
        Err(failure) => {
            changed.failure = Set(Some(failure.clone()));
            (AttemptStatus::Failed, "payment.refund_failed")
        }
    };
    changed.status = Set(status);
    changed.update(&txn).await?;
    Entry::new(action, by, origin)
        .target("plan", payment.plan_id)
        .detail(serde_json::json!({
            "payment": payment.number, "amount_cents": refund.amount_cents, "refund": refund.id,
            "gateway_refund": answer.as_ref().ok(), "failure": answer.as_ref().err(),
        }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(status)
}

/// Asks the gateway again, with the same key, about every refund it has not
/// answered for [`RECONCILE_AFTER`] (one unanswered past the
/// [`IDEMPOTENCY_WINDOW`] is failed instead, for staff to look up);
/// answers how many settled.
pub async fn reconcile(platform: &Platform) -> DomainResult<u32> {
    let before = platform.clock.now() - RECONCILE_AFTER;
    let stale = payment_refund::Entity::find()
        .filter(payment_refund::Column::Status.eq(AttemptStatus::Processing))
        .filter(payment_refund::Column::StartedAt.lt(before))
        .all(&platform.db)
        .await?;
    let system = Actor::system("payments");
    let unanswerable = platform.clock.now() - IDEMPOTENCY_WINDOW;
    let mut settled = 0;
    for refund in stale {
        let status = if refund.started_at < unanswerable {
            // Its key is forgotten by now: asking again could refund twice.
            let failure = "no answer within the gateway's 24-hour idempotency window: look the refund up there \
                           before refunding again";
            settle(platform, refund, Err(failure.to_owned()), &system, &Origin::default()).await?
        } else {
            send_one(platform, refund, &system, &Origin::default()).await?
        };
        if status != AttemptStatus::Processing {
            settled += 1;
        }
    }
    Ok(settled)
}
