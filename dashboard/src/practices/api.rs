//! The practice's settings in the staff API.

use petbridge_domain::{
    Platform,
    kernel::{
        permissions::Permission,
        practice::{CancellationPolicy, FinalFailure, PlanPoints, RenewalSettings},
        text::Phone,
    },
    practices,
};
use petbridge_http::{
    ApiResult,
    fields::{Between, Items, Limited, Matching, Stored, Text},
};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// The practice's own settings.
#[derive(Debug, Object)]
pub struct PracticeSettingsBody {
    /// Consecutive failed logins that lock a staff account (3 to 20).
    pub lockout_threshold: u32,
    /// Administrators must use two-factor login.
    pub require_admin_two_factor: bool,
    /// The practice's texting number (E.164), if it texts.
    pub sms_number: Option<String>,
    /// One loyalty paw for every this many cents invoiced; none when invoices earn no paws.
    pub paw_per_invoiced_cents: Option<i64>,
    /// What an owner owes when a plan is cancelled: `remaining_payments`, `usage_less_paid`
    /// (the items used and the enrolment fee less what was paid; an overpayment is refunded),
    /// `lesser`, `nothing` or `manager_figure`.
    pub plan_cancellation: Stored<CancellationPolicy>,
    /// The plan points staff earn.
    pub plan_points: PlanPointsBody,
    /// When and whether plans renew by themselves.
    pub renewals: RenewalRules,
    /// Cents off the enrolment fee of a household's second and later pets in a plan.
    pub multi_pet_discount_cents: i64,
    /// The address, phone and email the healthcare agreement shows under the practice's name, one line each.
    pub letterhead: Vec<String>,
    /// What follows a plan payment whose last retry was declined: `keep` (the plan keeps its
    /// benefits), `hold` (it goes on hold) or `late_fee` (a late-fee payment is added).
    pub final_failure: Stored<FinalFailure>,
    /// The late fee `late_fee` adds, in cents.
    pub late_fee_cents: i64,
}

/// When renewals are prepared, and what stops an automatic one.
#[derive(Debug, Object)]
pub struct RenewalRules {
    /// A renewal is prepared this many days before the term ends.
    pub prepare_days_before:
        Limited<i32, Between<{ *practices::PREPARE_DAYS.start() as i64 }, { *practices::PREPARE_DAYS.end() as i64 }>>,
    /// No automatic renewal while a payment is failed or past due.
    pub block_with_balance_due: bool,
    /// No automatic renewal after this many failed payments (0: never for that).
    pub block_after_failed_payments: Limited<i32, Between<0, { practices::MAX_FAILED_PAYMENTS as i64 }>>,
    /// Owners of a plan of a year or more are told this many days before it renews.
    pub notice_days_before:
        Limited<i32, Between<{ *practices::NOTICE_DAYS.start() as i64 }, { *practices::NOTICE_DAYS.end() as i64 }>>,
}

impl From<RenewalSettings> for RenewalRules {
    fn from(r: RenewalSettings) -> Self {
        Self {
            prepare_days_before: r.prepare_days_before.into(),
            block_with_balance_due: r.block_with_balance_due,
            block_after_failed_payments: r.block_after_failed_payments.into(),
            notice_days_before: r.notice_days_before.into(),
        }
    }
}

impl From<RenewalRules> for RenewalSettings {
    fn from(r: RenewalRules) -> Self {
        Self {
            prepare_days_before: *r.prepare_days_before,
            block_with_balance_due: r.block_with_balance_due,
            block_after_failed_payments: *r.block_after_failed_payments,
            notice_days_before: *r.notice_days_before,
        }
    }
}

/// The plan points a practice's staff earn: each sale's points go to the
/// staff member who made it.
#[derive(Debug, Object)]
pub struct PlanPointsBody {
    /// For enrolling a pet.
    pub enrolment: Points,
    /// More, when the household has another pet's plan in progress.
    pub multi_pet: Points,
    /// For changing a plan to a dearer one.
    pub upgrade: Points,
    /// For each add-on item sold with a plan.
    pub add_on: Points,
    /// A plan cancelled within this many days of its sale takes its points back.
    pub reversal_days: Limited<i32, Between<0, { practices::MAX_REVERSAL_DAYS as i64 }>>,
}

/// Points one sale earns.
type Points = Limited<i32, Between<0, { practices::MAX_PLAN_POINTS as i64 }>>;

impl From<PlanPoints> for PlanPointsBody {
    fn from(p: PlanPoints) -> Self {
        Self {
            enrolment: p.enrolment.into(),
            multi_pet: p.multi_pet.into(),
            upgrade: p.upgrade.into(),
            add_on: p.add_on.into(),
            reversal_days: p.reversal_days.into(),
        }
    }
}

impl From<PlanPointsBody> for PlanPoints {
    fn from(p: PlanPointsBody) -> Self {
        Self {
            enrolment: *p.enrolment,
            multi_pet: *p.multi_pet,
            upgrade: *p.upgrade,
            add_on: *p.add_on,
            reversal_days: *p.reversal_days,
        }
    }
}

/// Changes to the practice's settings; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct PracticeSettingsChanges {
    /// Consecutive failed logins that lock a staff account.
    pub lockout_threshold: Option<
        Limited<
            u32,
            Between<{ *practices::LOCKOUT_THRESHOLDS.start() as i64 }, { *practices::LOCKOUT_THRESHOLDS.end() as i64 }>,
        >,
    >,
    /// Administrators must use two-factor login.
    pub require_admin_two_factor: Option<bool>,
    /// The practice's texting number (E.164); an empty text removes it.
    pub sms_number: Option<Limited<String, Matching<Phone>>>,
    /// One loyalty paw for every this many cents invoiced (from 100); 0
    /// stops invoices earning paws.
    pub paw_per_invoiced_cents: Option<Limited<i64, Between<0, { practices::MAX_CENTS_PER_PAW }>>>,
    /// What an owner owes when a plan is cancelled.
    pub plan_cancellation: Option<Stored<CancellationPolicy>>,
    /// The plan points staff earn (all four together).
    pub plan_points: Option<PlanPointsBody>,
    /// The renewal rules (all four together).
    pub renewals: Option<RenewalRules>,
    /// Cents off the enrolment fee of a household's second and later pets in a plan.
    pub multi_pet_discount_cents: Option<Limited<i64, Between<0, { practices::MAX_MULTI_PET_DISCOUNT_CENTS }>>>,
    /// The agreement's letterhead: up to 4 lines (blank ones dropped) of up to 100 characters.
    pub letterhead: Option<Letterhead>,
    /// What follows a plan payment whose last retry was declined.
    pub final_failure: Option<Stored<FinalFailure>>,
    /// The late fee, in cents.
    pub late_fee_cents:
        Option<Limited<i64, Between<{ *practices::LATE_FEE_CENTS.start() }, { *practices::LATE_FEE_CENTS.end() }>>>,
}

/// The lines of an agreement's letterhead.
type Letterhead = Limited<Vec<Text<0, { practices::LETTERHEAD_LINE_CHARS }>>, Items<{ practices::LETTERHEAD_LINES }>>;

impl From<petbridge_domain::kernel::practice::Practice> for PracticeSettingsBody {
    fn from(practice: petbridge_domain::kernel::practice::Practice) -> Self {
        Self {
            lockout_threshold: practice.settings.lockout_threshold,
            require_admin_two_factor: practice.settings.require_admin_two_factor,
            sms_number: practice.sms_number,
            paw_per_invoiced_cents: practice.settings.paw_per_invoiced_cents,
            plan_cancellation: practice.settings.plan_cancellation.into(),
            plan_points: practice.settings.plan_points.into(),
            renewals: practice.settings.renewals.into(),
            multi_pet_discount_cents: practice.settings.multi_pet_discount_cents,
            letterhead: practice.settings.letterhead,
            final_failure: practice.settings.payments.final_failure.into(),
            late_fee_cents: practice.settings.payments.late_fee_cents,
        }
    }
}

/// This feature's operations of the staff API.
pub struct PracticeApi;

#[OpenApi]
impl PracticeApi {
    /// The practice's settings.
    #[oai(path = "/practice/settings", method = "get", tag = "Tag::Users", operation_id = "getPracticeSettings")]
    async fn practice_settings(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
    ) -> ApiResult<Json<PracticeSettingsBody>> {
        authorize(&platform, &auth, Permission::AdminTools).await?;
        Ok(Json(practices::get(&platform, auth.principal().scope()).await?.into()))
    }
    /// Change the practice's settings.
    #[oai(path = "/practice/settings", method = "patch", tag = "Tag::Users", operation_id = "updatePracticeSettings")]
    async fn update_practice_settings(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<PracticeSettingsChanges>,
    ) -> ApiResult<Json<PracticeSettingsBody>> {
        let allowed = authorize(&platform, &auth, Permission::AdminTools).await?;
        let changes = practices::SettingsChanges {
            lockout_threshold: body.0.lockout_threshold.map(Limited::into_inner),
            require_admin_two_factor: body.0.require_admin_two_factor,
            sms_number: body.0.sms_number.map(Limited::into_inner),
            paw_per_invoiced_cents: body.0.paw_per_invoiced_cents.map(Limited::into_inner),
            plan_cancellation: body.0.plan_cancellation.map(|p| p.0),
            plan_points: body.0.plan_points.map(PlanPoints::from),
            renewals: body.0.renewals.map(RenewalSettings::from),
            multi_pet_discount_cents: body.0.multi_pet_discount_cents.map(Limited::into_inner),
            letterhead: body
                .0
                .letterhead
                .map(|lines| lines.into_inner().into_iter().map(Limited::into_inner).collect()),
            final_failure: body.0.final_failure.map(|p| p.0),
            late_fee_cents: body.0.late_fee_cents.map(Limited::into_inner),
        };
        practices::update_settings(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), changes).await?;
        Ok(Json(practices::get(&platform, auth.principal().scope()).await?.into()))
    }
}
