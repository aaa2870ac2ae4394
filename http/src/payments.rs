//! Saved cards and charge attempts as both APIs show them: the gateway's
//! brand, last four and expiry, never a card number.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    db::entities::{
        payment_attempt::{self, AttemptStatus},
        payment_profile, payment_refund,
    },
    payments::{charges::Charged, profiles::CardSetup},
};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::fields::Stored;

/// A card saved with the payment gateway.
#[derive(Debug, Object)]
pub struct PaymentCard {
    /// Id.
    pub id: Uuid,
    /// `visa`, `mastercard`, `amex`, …
    pub brand: String,
    /// The number's last four digits.
    pub last4: String,
    /// Expiry month, 1 to 12…
    pub exp_month: i32,
    /// …and year.
    pub exp_year: i32,
    /// Who saved it (a staff member, or the owner).
    pub added_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<payment_profile::Model> for PaymentCard {
    fn from(p: payment_profile::Model) -> Self {
        Self {
            id: p.id,
            brand: p.brand,
            last4: p.last4,
            exp_month: p.exp_month,
            exp_year: p.exp_year,
            added_by: p.added_by,
            created_at: p.created_at,
        }
    }
}

/// One try at charging a payment.
#[derive(Debug, Object)]
pub struct PaymentAttempt {
    /// Id: also the idempotency key the gateway was called with.
    pub id: Uuid,
    /// The payment it charged.
    pub payment_id: Uuid,
    /// In cents.
    pub amount_cents: i64,
    /// `processing` (no answer yet), `succeeded`, `failed` or `requires_action` (the owner confirms it).
    pub status: Stored<AttemptStatus>,
    /// The bank's or gateway's reason for a decline (`insufficient_funds`, `lost_card`, …).
    pub decline_code: Option<String>,
    /// The gateway's words about a failure.
    pub failure: Option<String>,
    /// What started it: `schedule`, `the owner, in the app`, or a staff member's name.
    pub started_by: String,
    /// When it started…
    pub started_at: DateTime<Utc>,
    /// …and when its outcome was known.
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<payment_attempt::Model> for PaymentAttempt {
    fn from(a: payment_attempt::Model) -> Self {
        Self {
            id: a.id,
            payment_id: a.payment_id,
            amount_cents: a.amount_cents,
            status: a.status.into(),
            decline_code: a.decline_code,
            failure: a.failure,
            started_by: a.started_by,
            started_at: a.started_at,
            settled_at: a.settled_at,
        }
    }
}

/// Money paid back to a card through the gateway.
#[derive(Debug, Object)]
pub struct PaymentRefund {
    /// Id: also the idempotency key the gateway was called with.
    pub id: Uuid,
    /// The payment paid back.
    pub payment_id: Uuid,
    /// In cents.
    pub amount_cents: i64,
    /// `processing` (no answer yet), `succeeded` or `failed`.
    pub status: Stored<AttemptStatus>,
    /// The gateway's words when it refused.
    pub failure: Option<String>,
    /// Who asked for it.
    pub started_by: String,
    /// When it was asked for…
    pub started_at: DateTime<Utc>,
    /// …and when its outcome was known.
    pub settled_at: Option<DateTime<Utc>>,
}

impl From<payment_refund::Model> for PaymentRefund {
    fn from(r: payment_refund::Model) -> Self {
        Self {
            id: r.id,
            payment_id: r.payment_id,
            amount_cents: r.amount_cents,
            status: r.status.into(),
            failure: r.failure,
            started_by: r.started_by,
            started_at: r.started_at,
            settled_at: r.settled_at,
        }
    }
}

/// What the browser needs to show the gateway's card fields for one card.
#[derive(Debug, Object)]
pub struct CardSetupStart {
    /// The setup (`seti_…`): send it back once the card fields confirmed it.
    pub setup_intent: String,
    /// Confirms this one setup from the browser (Stripe.js `confirmCardSetup`).
    pub client_secret: String,
    /// The gateway's script, which draws the card fields.
    pub script_url: String,
    /// The key that script starts with (public by design).
    pub publishable_key: String,
}

impl From<CardSetup> for CardSetupStart {
    fn from(s: CardSetup) -> Self {
        Self {
            setup_intent: s.setup_intent,
            client_secret: s.client_secret,
            script_url: s.fields.script_url,
            publishable_key: s.fields.publishable_key,
        }
    }
}

/// How a charge came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ChargeResult {
    /// Paid.
    Paid,
    /// Declined by the bank.
    Declined,
    /// The owner must confirm it with their bank.
    AuthenticationRequired,
    /// The gateway has not answered yet; it is asked again with the same key.
    Pending,
}

/// A charge's outcome.
#[derive(Debug, Object)]
pub struct ChargeOutcomeView {
    /// How it came out.
    pub result: ChargeResult,
    /// Why it was declined.
    pub reason: Option<String>,
    /// The day it is tried again, if it is.
    pub retry_on: Option<chrono::NaiveDate>,
}

impl From<Charged> for ChargeOutcomeView {
    fn from(c: Charged) -> Self {
        match c {
            Charged::Paid => Self { result: ChargeResult::Paid, reason: None, retry_on: None },
            Charged::Declined { reason, retry_on } => {
                Self { result: ChargeResult::Declined, reason: Some(reason), retry_on }
            }
            Charged::AuthenticationRequired => Self {
                result: ChargeResult::AuthenticationRequired,
                reason: Some("authentication_required".into()),
                retry_on: None,
            },
            Charged::Pending => Self { result: ChargeResult::Pending, reason: None, retry_on: None },
        }
    }
}
