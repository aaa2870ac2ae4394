//! A practice as every service sees it: the tenant's name, time zone and
//! settings.

use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A practice's own settings, stored as JSON so new ones need no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PracticeSettings {
    /// Consecutive failed logins that lock a staff account.
    pub lockout_threshold: u32,
    /// Administrators must use two-factor login (practices that keep
    /// card-payment profiles want this).
    pub require_admin_two_factor: bool,
    /// One loyalty paw for every this many cents invoiced (synced invoices
    /// of app households); none: invoices earn no paws.
    pub paw_per_invoiced_cents: Option<i64>,
    /// What an owner owes when a manager cancels a plan (PLANS.md A9).
    pub plan_cancellation: CancellationPolicy,
    /// The plan points staff earn (PLANS.md A11).
    pub plan_points: PlanPoints,
    /// When and whether plans renew by themselves (PLANS.md A5, A6).
    pub renewals: RenewalSettings,
    /// Taken off the enrolment fee of a household's second and later pets
    /// in a plan (PLANS.md A2).
    pub multi_pet_discount_cents: i64,
    /// The practice's address, phone and email, one line each, as its
    /// healthcare agreements show them under its name.
    pub letterhead: Vec<String>,
    /// How declined card payments are tried again (PLANS.md B6).
    pub payments: PaymentSettings,
}

/// How declined card payments are tried again, and what follows the last decline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentSettings {
    /// Days after the first decline that a payment is tried again (at most
    /// five, rising, up to 60 days); a hard decline is never tried again.
    pub retry_days: Vec<u32>,
    /// What happens to the plan once a payment's last retry is declined.
    pub final_failure: FinalFailure,
    /// The late fee [`FinalFailure::LateFee`] adds, in cents.
    pub late_fee_cents: i64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        // PLANS.md B6's default.
        Self { retry_days: vec![3, 7, 14], final_failure: FinalFailure::Keep, late_fee_cents: 2_500 }
    }
}

/// A practice's policy for a payment whose retries are used up (PLANS.md B6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum FinalFailure {
    /// The plan keeps its benefits while the owner is asked to pay.
    Keep,
    /// The plan goes on hold (for a financial reason) until staff release it.
    Hold,
    /// A late-fee payment is added to the plan, due at once.
    LateFee,
}

/// When renewals are prepared, and what stops one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenewalSettings {
    /// A renewal is prepared this many days before the term's end.
    pub prepare_days_before: i32,
    /// No automatic renewal while a payment is failed or past due.
    pub block_with_balance_due: bool,
    /// No automatic renewal after this many failed payments (0: never blocked for it).
    pub block_after_failed_payments: i32,
    /// Owners of a plan of a year or more are told this many days before
    /// it renews (15 to 45, as automatic-renewal laws ask).
    pub notice_days_before: i32,
}

impl Default for RenewalSettings {
    fn default() -> Self {
        Self {
            prepare_days_before: 60,
            block_with_balance_due: true,
            block_after_failed_payments: 3,
            notice_days_before: 30,
        }
    }
}

/// The plan points a practice's staff earn, set by administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanPoints {
    /// For enrolling a pet.
    pub enrolment: i32,
    /// More, when the household has another pet's plan in progress.
    pub multi_pet: i32,
    /// For changing a plan to a dearer one.
    pub upgrade: i32,
    /// For each add-on item sold with a plan.
    pub add_on: i32,
    /// A plan cancelled within this many days of its sale takes its points back.
    pub reversal_days: i32,
}

impl Default for PlanPoints {
    fn default() -> Self {
        Self { enrolment: 10, multi_pet: 5, upgrade: 5, add_on: 2, reversal_days: 30 }
    }
}

impl Default for PracticeSettings {
    fn default() -> Self {
        Self {
            lockout_threshold: 5,
            require_admin_two_factor: false,
            paw_per_invoiced_cents: None,
            plan_cancellation: CancellationPolicy::UsageLessPaid,
            plan_points: PlanPoints::default(),
            renewals: RenewalSettings::default(),
            multi_pet_discount_cents: 0,
            letterhead: Vec::new(),
            payments: PaymentSettings::default(),
        }
    }
}

/// What an owner owes when a plan is cancelled (PLANS.md A9). The
/// enrolment fee counts as received with the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum CancellationPolicy {
    /// Every payment still scheduled.
    RemainingPayments,
    /// The retail value of the items used and the fee, less what was paid
    /// (never below 0); what was paid beyond them is refunded.
    UsageLessPaid,
    /// The lesser of the two above.
    Lesser,
    /// Nothing more.
    Nothing,
    /// A figure the cancelling manager gives, with the reason.
    ManagerFigure,
}

/// A practice as services hand it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    /// Its id.
    pub id: Uuid,
    /// Its short code (login form, URLs).
    pub slug: String,
    /// Its name as owners see it.
    pub name: String,
    /// Its IANA time zone.
    pub time_zone: chrono_tz::Tz,
    /// Its settings.
    pub settings: PracticeSettings,
    /// Its own texting number (E.164), if it texts.
    pub sms_number: Option<String>,
    /// When it joined.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Practice {
    /// The calendar day it is at the practice at `now`.
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}
