//! The payment gateway's webhooks (PLANS.md B7). The `Stripe-Signature`
//! header is checked (HMAC-SHA256 over `t.body` with the endpoint's secret,
//! in constant time, at most five minutes old) before anything is read;
//! each event is stored by its id, so a replay changes nothing; and states
//! only move forward, since events arrive late and out of order. It
//! follows PaymentIntents' outcomes and disputes' openings and closings.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        gateway_event,
        payment_attempt::{self, AttemptStatus},
        plan_payment::{self, PaymentStatus},
    },
    kernel::tokens::{hmac_sha256_hex, same_secret},
    payments::charges,
    ports::payments::ChargeOutcome,
};

/// How old a signed event may be (Stripe's own default tolerance).
pub const TOLERANCE_SECONDS: i64 = 300;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// It moved an attempt forward.
    Applied,
    /// Seen before, by its id: nothing changed.
    Replayed,
    /// Nothing to do: a kind we do not follow, an attempt we do not know,
    /// or one that has moved past what the event says.
    Ignored,
}

/// Whether `header` (`t=…,v1=…[,v1=…]`) signs `body` with `secret`, at
/// most [`TOLERANCE_SECONDS`] from `now`.
pub fn signed(secret: &str, header: &str, body: &[u8], now: DateTime<Utc>) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v1)) => signatures.push(v1),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let mut payload = format!("{timestamp}.").into_bytes();
    payload.extend_from_slice(body);
    let expected = hmac_sha256_hex(secret.as_bytes(), &payload);
    signatures.iter().any(|given| same_secret(given, &expected))
}

/// Takes one webhook: refused with `unsigned_webhook` unless `signature`
/// proves the gateway sent `body` lately; then stored by id and applied.
pub async fn receive(
    platform: &Platform,
    secret: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> DomainResult<Received> {
    let now = platform.clock.now();
    let proven = matches!((secret, signature), (Some(secret), Some(header)) if signed(secret, header, body, now));
    if !proven {
        return Err(DomainError::from(Code::UnsignedWebhook));
    }
    let event: Value = serde_json::from_slice(body)
        .map_err(|_| DomainError::with(Code::InvalidWebhook, "an event is a JSON object"))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(DomainError::with(Code::InvalidWebhook, "an event has an id and a type"));
    };
    let object = &event["data"]["object"];
    let stored = gateway_event::Entity::insert(gateway_event::ActiveModel {
        id: Set(id.to_owned()),
        kind: Set(kind.to_owned()),
        object_ref: Set(object["id"].as_str().map(str::to_owned)),
        received_at: Set(now),
    })
    .on_conflict_do_nothing_on([gateway_event::Column::Id])
    .exec_without_returning(&platform.writer)
    .await?;
    if !matches!(stored, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        return Ok(Received::Replayed);
    }
    match apply(platform, kind, object).await {
        Ok(received) => Ok(received),
        Err(err) => {
            // Not applied: forget it, so the gateway's retry is taken anew.
            gateway_event::Entity::delete_by_id(id.to_owned()).exec(&platform.writer).await?;
            Err(err)
        }
    }
}

async fn apply(platform: &Platform, kind: &str, object: &Value) -> DomainResult<Received> {
    match kind {
        "payment_intent.succeeded" | "payment_intent.payment_failed" => charge_event(platform, kind, object).await,
        "charge.dispute.created" | "charge.dispute.closed" => dispute_event(platform, kind, object).await,
        _ => Ok(Received::Ignored),
    }
}

/// A PaymentIntent's outcome, settled on its attempt.
async fn charge_event(platform: &Platform, kind: &str, intent: &Value) -> DomainResult<Received> {
    let outcome = match kind {
        "payment_intent.succeeded" => {
            ChargeOutcome::Succeeded { intent: intent["id"].as_str().unwrap_or_default().to_owned() }
        }
        "payment_intent.payment_failed" => {
            let error = &intent["last_payment_error"];
            ChargeOutcome::Declined {
                intent: intent["id"].as_str().map(str::to_owned),
                code: error["code"].as_str().unwrap_or("card_declined").to_owned(),
                decline_code: error["decline_code"].as_str().map(str::to_owned),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
            }
        }
        _ => return Ok(Received::Ignored),
    };
    let Some(attempt) = attempt_of(platform, intent).await? else {
        return Ok(Received::Ignored);
    };
    let before = attempt.status;
    let scope = Scope { practice_id: attempt.practice_id };
    charges::settle(platform, scope, attempt.id, &outcome, &Actor::system("payment gateway"), &Origin::default())
        .await?;
    let after = payment_attempt::Entity::find_by_id(attempt.id).one(&platform.db).await?.map(|a| a.status);
    Ok(if after == Some(before) { Received::Ignored } else { Received::Applied })
}

/// A dispute the card's issuer opened or closed on a charge (B2): opened,
/// a collected payment is `disputed`; closed won, it is collected again;
/// closed lost, it is (or stays) disputed: the issuer took the money back.
/// A dispute's opening that arrives after its closing changes nothing.
async fn dispute_event(platform: &Platform, kind: &str, dispute: &Value) -> DomainResult<Received> {
    let Some(intent) = dispute["payment_intent"].as_str() else { return Ok(Received::Ignored) };
    let Some(attempt) = payment_attempt::Entity::find()
        .filter(payment_attempt::Column::IntentRef.eq(intent))
        .filter(payment_attempt::Column::Status.eq(AttemptStatus::Succeeded))
        .one(&platform.db)
        .await?
    else {
        return Ok(Received::Ignored);
    };
    let opened = kind == "charge.dispute.created";
    if opened {
        let closed_already = gateway_event::Entity::find()
            .filter(gateway_event::Column::Kind.eq("charge.dispute.closed"))
            .filter(gateway_event::Column::ObjectRef.eq(dispute["id"].as_str()))
            .one(&platform.db)
            .await?
            .is_some();
        if closed_already {
            return Ok(Received::Ignored);
        }
    }
    let scope = Scope { practice_id: attempt.practice_id };
    let txn = platform.begin_write().await?;
    let payment = plan_payment::Entity::find_by_id(attempt.payment_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let won = dispute["status"].as_str() == Some("won");
    let (from, to, action): (&[PaymentStatus], PaymentStatus, &str) = if opened {
        (&[PaymentStatus::Paid, PaymentStatus::PartiallyRefunded], PaymentStatus::Disputed, "payment.disputed")
    } else if won {
        let collected = if payment.refunded_cents > 0 { PaymentStatus::PartiallyRefunded } else { PaymentStatus::Paid };
        (&[PaymentStatus::Disputed], collected, "payment.dispute_won")
    } else {
        // Lost stands even when its opening never arrived.
        (
            &[PaymentStatus::Paid, PaymentStatus::PartiallyRefunded, PaymentStatus::Disputed],
            PaymentStatus::Disputed,
            "payment.dispute_lost",
        )
    };
    if !from.contains(&payment.status) {
        return Ok(Received::Ignored);
    }
    let mut changed: plan_payment::ActiveModel = payment.clone().into();
    changed.status = Set(to);
    changed.update(&txn).await?;
    Entry::new(action, &Actor::system("payment gateway"), &Origin::default())
        .target("plan", payment.plan_id)
        .detail(serde_json::json!({
            "payment": payment.number, "amount_cents": dispute["amount"].as_i64(),
            "reason": dispute["reason"].as_str(), "dispute": dispute["id"].as_str(),
        }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(Received::Applied)
}

/// The attempt a PaymentIntent was made for: by the id in its metadata,
/// else by the intent's own id.
async fn attempt_of(platform: &Platform, intent: &Value) -> DomainResult<Option<payment_attempt::Model>> {
    if let Some(id) = intent["metadata"]["attempt_id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) {
        return Ok(payment_attempt::Entity::find_by_id(id).one(&platform.db).await?);
    }
    let Some(intent_ref) = intent["id"].as_str() else { return Ok(None) };
    Ok(payment_attempt::Entity::find()
        .filter(payment_attempt::Column::IntentRef.eq(intent_ref))
        .filter(payment_attempt::Column::Status.ne(AttemptStatus::Succeeded))
        .one(&platform.db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(secret: &str, t: i64, body: &[u8]) -> String {
        let mut payload = format!("{t}.").into_bytes();
        payload.extend_from_slice(body);
        format!("t={t},v1={}", hmac_sha256_hex(secret.as_bytes(), &payload))
    }

    #[test]
    fn a_signature_is_checked_against_the_body_the_secret_and_the_time() {
        let now = Utc::now();
        let body = br#"{"id":"evt_1"}"#;
        let t = now.timestamp();
        assert!(signed("whsec_a", &header("whsec_a", t, body), body, now));
        assert!(!signed("whsec_b", &header("whsec_a", t, body), body, now), "another secret");
        assert!(!signed("whsec_a", &header("whsec_a", t, body), br#"{"id":"evt_2"}"#, now), "another body");
        assert!(!signed("whsec_a", &header("whsec_a", t - 301, body), body, now), "too old");
        assert!(signed("whsec_a", &header("whsec_a", t - 299, body), body, now));
        assert!(!signed("whsec_a", "v1=abc", body, now), "no time");
    }
}
