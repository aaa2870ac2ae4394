//! Wellness-plan templates in the staff API: what the practice sells, each
//! save a new version that plans sold before it never see.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    db::entities::{
        activity,
        plan::{Billing, HoldReason, Renewal, Status},
        plan_note,
        plan_payment::{self, PaymentKind, PaymentStatus, SupplementalPurpose},
        plan_template_item, plan_template_version,
    },
    kernel::{permissions::Permission, practice::CancellationPolicy, text::MAX_NAME_CHARS},
    plans::{
        agreements,
        enrolment::{self, Enrolment, Quote},
        lifecycle::{self, CancelPreview, Cancellation, Missed, Refund},
        notes::{self, MAX_NOTE_CHARS},
        records::{self, PlanRecord},
        renewals::{self, RenewalTerms},
        templates::{self as plan_templates, ItemDraft, Template, TemplateDraft},
    },
};
use petbridge_http::{
    ApiResult,
    fields::{Between, Items, Limited, Stored, Text},
    payments::{PaymentAttempt, PaymentCard, PaymentRefund},
    plans::{AgreementPdf, PlanAgreement, PlanItemBalance},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::Done,
    tags::Tag,
};

/// An amount of money in cents.
type Cents = Limited<i64, Between<0, { plan_templates::MAX_PRICE_CENTS }>>;
/// An age in whole months.
type Months = Limited<i32, Between<0, { plan_templates::MAX_AGE_MONTHS as i64 }>>;
/// A WP item code.
type ItemCode = Text<3, { plan_templates::MAX_ITEM_CODE_CHARS }>;

/// An item a plan covers.
#[derive(Debug, Object)]
pub struct PlanItem {
    /// Id of the item in this version.
    pub id: Uuid,
    /// What it is.
    pub description: String,
    /// The WP code the PMS bills it under.
    pub code: String,
    /// Other WP codes that count as this item.
    pub alternate_codes: Vec<String>,
    /// Allowed per term; absent for unlimited.
    pub quantity: Option<i32>,
    /// What it costs outside a plan, in cents.
    pub retail_price_cents: i64,
    /// Set for an optional add-on: what choosing it adds a month, in cents.
    pub add_on_monthly_cents: Option<i64>,
}

impl From<plan_template_item::Model> for PlanItem {
    fn from(item: plan_template_item::Model) -> Self {
        Self {
            alternate_codes: item.alternates().map(str::to_owned).collect(),
            id: item.id,
            description: item.description,
            code: item.code,
            quantity: item.quantity,
            retail_price_cents: item.retail_price_cents,
            add_on_monthly_cents: item.add_on_monthly_cents,
        }
    }
}

/// What one version of a template sells; money is in cents.
#[derive(Debug, Object)]
pub struct PlanTerms {
    /// The name owners see.
    pub name: String,
    /// The species it is for (lower case); absent for any.
    pub species: Option<String>,
    /// The youngest a pet may be at enrolment, in months.
    pub min_age_months: i32,
    /// The oldest, in months; absent for no limit.
    pub max_age_months: Option<i32>,
    /// How long a plan runs, in months.
    pub term_months: i32,
    /// The template a plan renews into at the end of its term.
    pub renews_into_id: Option<Uuid>,
    /// The monthly instalment.
    pub monthly_price_cents: i64,
    /// The price paid in full at enrolment.
    pub paid_in_full_price_cents: i64,
    /// The enrolment fee.
    pub initial_fee_cents: i64,
    /// Percent off items that are not on the plan, while it runs.
    pub non_plan_discount_percent: Option<i32>,
    /// The plan's own text in its healthcare agreement.
    pub agreement_text: String,
}

impl From<plan_template_version::Model> for PlanTerms {
    fn from(v: plan_template_version::Model) -> Self {
        Self {
            name: v.name,
            species: v.species,
            min_age_months: v.min_age_months,
            max_age_months: v.max_age_months,
            term_months: v.term_months,
            renews_into_id: v.renews_into_id,
            monthly_price_cents: v.monthly_price_cents,
            paid_in_full_price_cents: v.paid_in_full_price_cents,
            initial_fee_cents: v.initial_fee_cents,
            non_plan_discount_percent: v.non_plan_discount_percent,
            agreement_text: v.agreement_text,
        }
    }
}

/// A plan template at the version sold now.
#[derive(Debug, Object)]
pub struct PlanTemplate {
    /// Id.
    pub id: Uuid,
    /// The practice's code for it.
    pub code: String,
    /// The version sold now (1 for a new template; each save adds one).
    pub version: i32,
    /// That version's terms.
    #[oai(flatten)]
    pub terms: PlanTerms,
    /// What it covers, in order.
    pub items: Vec<PlanItem>,
    /// When it stopped being sold; absent while it is offered.
    pub retired_at: Option<DateTime<Utc>>,
    /// When the version sold now was saved…
    pub revised_at: DateTime<Utc>,
    /// …and by whom.
    pub revised_by: String,
}

impl From<Template> for PlanTemplate {
    fn from(t: Template) -> Self {
        Self {
            id: t.template.id,
            code: t.template.code,
            version: t.version.version,
            retired_at: t.template.retired_at,
            revised_at: t.version.created_at,
            revised_by: t.version.created_by.clone(),
            terms: t.version.into(),
            items: t.items.into_iter().map(PlanItem::from).collect(),
        }
    }
}

/// A saved version of a template.
#[derive(Debug, Object)]
pub struct PlanTemplateVersion {
    /// Its number.
    pub version: i32,
    /// Its terms.
    #[oai(flatten)]
    pub terms: PlanTerms,
    /// When it was saved…
    pub saved_at: DateTime<Utc>,
    /// …and by whom.
    pub saved_by: String,
}

impl From<plan_template_version::Model> for PlanTemplateVersion {
    fn from(v: plan_template_version::Model) -> Self {
        Self { version: v.version, saved_at: v.created_at, saved_by: v.created_by.clone(), terms: v.into() }
    }
}

/// An item as written in a template.
#[derive(Debug, Object)]
pub struct PlanItemDraft {
    /// What it is, e.g. "Rabies vaccine".
    pub description: Text<1, { plan_templates::MAX_DESCRIPTION_CHARS }>,
    /// The WP code the PMS bills it under (e.g. `WP101`; upper-cased).
    pub code: ItemCode,
    /// Other WP codes that count as this item.
    #[oai(default)]
    pub alternate_codes: Limited<Vec<ItemCode>, Items<{ plan_templates::MAX_ALTERNATE_CODES }>>,
    /// Allowed per term; absent for unlimited.
    pub quantity: Option<Limited<i32, Between<1, { plan_templates::MAX_ITEM_QUANTITY as i64 }>>>,
    /// What it costs outside a plan, in cents.
    pub retail_price_cents: Cents,
    /// Makes it an optional add-on, adding this many cents a month (× the term paid in full).
    pub add_on_monthly_cents: Option<Cents>,
}

/// A template as written: a new one, or the next version of one.
#[derive(Debug, Object)]
pub struct PlanTemplateDraft {
    /// The practice's code for it: letters, digits and dashes (upper-cased).
    pub code: Text<1, { plan_templates::MAX_CODE_CHARS }>,
    /// The name owners see.
    pub name: Text<1, { MAX_NAME_CHARS }>,
    /// The species it is for (e.g. `dog`); absent for any.
    pub species: Option<Text<0, { plan_templates::MAX_SPECIES_CHARS }>>,
    /// The youngest a pet may be at enrolment, in months (default 0).
    #[oai(default)]
    pub min_age_months: Months,
    /// The oldest, in months; absent for no limit.
    pub max_age_months: Option<Months>,
    /// How long a plan runs, in months (default 12).
    #[oai(default = "twelve_months")]
    pub term_months: Limited<i32, Between<1, { plan_templates::MAX_TERM_MONTHS as i64 }>>,
    /// The template a plan renews into (puppy → adult); itself or absent for the same.
    pub renews_into_id: Option<Uuid>,
    /// The monthly instalment.
    pub monthly_price_cents: Cents,
    /// The price paid in full at enrolment.
    pub paid_in_full_price_cents: Cents,
    /// The enrolment fee.
    #[oai(default)]
    pub initial_fee_cents: Cents,
    /// Percent off items not on the plan, while it runs.
    pub non_plan_discount_percent: Option<Limited<i32, Between<0, 100>>>,
    /// The plan's own text in its healthcare agreement.
    pub agreement_text: Text<1, { plan_templates::MAX_AGREEMENT_CHARS }>,
    /// What it covers, in the order shown.
    pub items: Limited<Vec<PlanItemDraft>, Items<{ plan_templates::MAX_ITEMS }>>,
}

fn twelve_months() -> Limited<i32, Between<1, { plan_templates::MAX_TERM_MONTHS as i64 }>> {
    plan_templates::DEFAULT_TERM_MONTHS.into()
}

impl From<PlanTemplateDraft> for TemplateDraft {
    fn from(d: PlanTemplateDraft) -> Self {
        Self {
            code: d.code.into_inner(),
            name: d.name.into_inner(),
            species: d.species.map(Limited::into_inner),
            min_age_months: *d.min_age_months,
            max_age_months: d.max_age_months.map(Limited::into_inner),
            term_months: *d.term_months,
            renews_into_id: d.renews_into_id,
            monthly_price_cents: *d.monthly_price_cents,
            paid_in_full_price_cents: *d.paid_in_full_price_cents,
            initial_fee_cents: *d.initial_fee_cents,
            non_plan_discount_percent: d.non_plan_discount_percent.map(Limited::into_inner),
            agreement_text: d.agreement_text.into_inner(),
            items: d
                .items
                .into_inner()
                .into_iter()
                .map(|i| ItemDraft {
                    description: i.description.into_inner(),
                    code: i.code.into_inner(),
                    alternate_codes: i.alternate_codes.into_inner().into_iter().map(Limited::into_inner).collect(),
                    quantity: i.quantity.map(Limited::into_inner),
                    retail_price_cents: *i.retail_price_cents,
                    add_on_monthly_cents: i.add_on_monthly_cents.map(Limited::into_inner),
                })
                .collect(),
        }
    }
}

/// Whether a template is sold.
#[derive(Debug, Object)]
pub struct PlanTemplateOffer {
    /// True stops selling it (plans sold on it go on); false sells it again.
    pub retired: bool,
}

/// A template added.
#[derive(ApiResponse)]
enum TemplateCreated {
    /// Added at version 1.
    #[oai(status = 201)]
    Created(Json<PlanTemplate>),
}

/// A payment of a plan's schedule.
#[derive(Debug, Object)]
pub struct PlanPayment {
    /// Id.
    pub id: Uuid,
    /// 1, 2, … in the schedule's order.
    pub number: i32,
    /// `initial` (the fee and the first instalment, or the paid-in-full price), `instalment`,
    /// `supplemental` or `cancellation` (what is owed when a plan is cancelled).
    pub kind: Stored<PaymentKind>,
    /// Its day.
    pub due_on: NaiveDate,
    /// Its amount in cents.
    pub amount_cents: i64,
    /// Where it stands.
    pub status: Stored<PaymentStatus>,
    /// When it was paid, cancelled or refunded.
    pub settled_at: Option<DateTime<Utc>>,
    /// What of it was paid back, in cents.
    pub refunded_cents: i64,
    /// Declined attempts since it was scheduled.
    pub failures: i32,
    /// The day a declined payment is tried again, while it is to be.
    pub retry_on: Option<NaiveDate>,
    /// What a supplemental payment is for: `nsf`, `card_fee`, `late_fee` or `other`.
    pub purpose: Option<Stored<SupplementalPurpose>>,
    /// Staff's words about a supplemental payment.
    pub note: Option<String>,
    /// The payment a supplemental one took the place of.
    pub replaces_id: Option<Uuid>,
}

impl From<plan_payment::Model> for PlanPayment {
    fn from(p: plan_payment::Model) -> Self {
        Self {
            id: p.id,
            failures: p.failures,
            retry_on: p.retry_on,
            purpose: p.purpose.map(Stored),
            note: p.note,
            replaces_id: p.replaces_id,
            refunded_cents: p.refunded_cents,
            number: p.number,
            kind: p.kind.into(),
            due_on: p.due_on,
            amount_cents: p.amount_cents,
            status: p.status.into(),
            settled_at: p.settled_at,
        }
    }
}

/// A pet's wellness plan, with its items and payments.
#[derive(Debug, Object)]
pub struct Plan {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// The pet.
    pub pet_id: Uuid,
    /// The pet's name.
    pub pet_name: String,
    /// The template…
    pub template_id: Uuid,
    /// …its code…
    pub template_code: String,
    /// …and the version the plan was sold on.
    pub version: i32,
    /// The plan's name as sold.
    pub name: String,
    /// Where it stands.
    pub status: Stored<Status>,
    /// What happens at the end of the term.
    pub renewal: Stored<Renewal>,
    /// Monthly or paid in full.
    pub billing: Stored<Billing>,
    /// The first day.
    pub starts_on: NaiveDate,
    /// The term's last day.
    pub ends_on: NaiveDate,
    /// The enrolment fee charged, in cents.
    pub initial_fee_cents: i64,
    /// The fee was waived.
    pub fee_waived: bool,
    /// Enrolled without a payment method.
    pub payment_method_skipped: bool,
    /// Who enrolled it…
    pub enrolled_by: String,
    /// …and the manager who approved a gated option, if one did.
    pub approved_by: Option<String>,
    /// The items with what is left of each.
    pub items: Vec<PlanItemBalance>,
    /// The schedule, by due day.
    pub payments: Vec<PlanPayment>,
    /// The number of the next payment still to be made.
    pub next_payment: Option<i32>,
    /// When it was sold.
    pub created_at: DateTime<Utc>,
    /// Why it is on hold, while it is.
    pub hold_reason: Option<Stored<HoldReason>>,
    /// The day the hold began: payments due from it on were missed.
    pub held_on: Option<NaiveDate>,
    /// Missed payments a release cancelled, in cents.
    pub forgiven_cents: i64,
    /// When a manager cancelled it…
    pub cancelled_at: Option<DateTime<Utc>>,
    /// …and why.
    pub cancel_reason: Option<String>,
    /// The plan this one renews.
    pub renews_plan_id: Option<Uuid>,
    /// Why its automatic renewal was blocked (a manager configures it).
    pub renewal_blocked: Option<String>,
    /// When its owner was told it renews.
    pub renewal_notice_at: Option<DateTime<Utc>>,
    /// Staff notes, oldest first.
    pub notes: Vec<PlanNote>,
    /// Every change, oldest first.
    pub history: Vec<PlanEvent>,
    /// The second owner named on the agreement.
    pub co_owner: Option<String>,
    /// The healthcare agreements it was issued, oldest first; the newest is in force.
    pub agreements: Vec<PlanAgreement>,
    /// The saved card it charges.
    pub card: Option<PaymentCard>,
    /// Whether due payments are charged by themselves.
    pub auto_charge: bool,
    /// Every try at charging its payments, oldest first.
    pub attempts: Vec<PaymentAttempt>,
    /// Every refund to a card of its payments, oldest first.
    pub refunds: Vec<PaymentRefund>,
}

/// A staff note on a plan.
#[derive(Debug, Object)]
pub struct PlanNote {
    /// Id.
    pub id: Uuid,
    /// What it says.
    pub body: String,
    /// Who wrote it…
    pub author: String,
    /// …and when.
    pub created_at: DateTime<Utc>,
    /// The administrator who last edited it…
    pub edited_by: Option<String>,
    /// …and when.
    pub edited_at: Option<DateTime<Utc>>,
}

impl From<plan_note::Model> for PlanNote {
    fn from(n: plan_note::Model) -> Self {
        Self {
            id: n.id,
            body: n.body,
            author: n.author,
            created_at: n.created_at,
            edited_by: n.edited_by,
            edited_at: n.edited_at,
        }
    }
}

/// One step of a plan's history.
#[derive(Debug, Object)]
pub struct PlanEvent {
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// What: `plan.enrol`, `plan.hold`, `plan.release`, `plan.change`, `plan.cancel`,
    /// `plan.note_add`, `plan.note_edit`, `plan.note_delete`, `plan.renew`, `plan.agreement_signed`, ….
    pub action: String,
    /// Who (a user name, or the system).
    pub actor: String,
    /// The manager who approved it in place.
    pub approver: Option<String>,
    /// What changed.
    pub detail: Option<serde_json::Value>,
}

impl From<activity::Model> for PlanEvent {
    fn from(e: activity::Model) -> Self {
        Self {
            occurred_at: e.occurred_at,
            action: e.action,
            actor: e.actor_name,
            approver: e.approver_name,
            detail: e.detail,
        }
    }
}

impl From<PlanRecord> for Plan {
    fn from(r: PlanRecord) -> Self {
        let next_payment = r.next_payment().map(|p| p.number);
        let p = r.plan;
        Self {
            id: p.id,
            client_id: p.client_id,
            pet_id: p.pet_id,
            pet_name: r.pet_name,
            template_id: p.template_id,
            template_code: r.template_code,
            version: r.version.version,
            name: r.version.name,
            status: p.status.into(),
            renewal: p.renewal.into(),
            billing: p.billing.into(),
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            initial_fee_cents: p.initial_fee_cents,
            fee_waived: p.fee_waived,
            payment_method_skipped: p.payment_method_skipped,
            enrolled_by: p.enrolled_by,
            approved_by: p.approved_by,
            items: PlanItemBalance::all(r.items),
            payments: r.payments.into_iter().map(PlanPayment::from).collect(),
            next_payment,
            created_at: p.created_at,
            hold_reason: p.hold_reason.map(Into::into),
            held_on: p.held_on,
            forgiven_cents: p.forgiven_cents,
            cancelled_at: p.cancelled_at,
            cancel_reason: p.cancel_reason,
            renews_plan_id: p.renews_plan_id,
            renewal_blocked: p.renewal_blocked,
            renewal_notice_at: p.renewal_notice_at,
            notes: r.notes.into_iter().map(PlanNote::from).collect(),
            history: r.history.into_iter().map(PlanEvent::from).collect(),
            co_owner: p.co_owner,
            agreements: r.agreements.into_iter().map(PlanAgreement::from).collect(),
            card: r.card.map(PaymentCard::from),
            auto_charge: p.auto_charge,
            attempts: r.attempts.into_iter().map(PaymentAttempt::from).collect(),
            refunds: r.refunds.into_iter().map(PaymentRefund::from).collect(),
        }
    }
}

/// Enrol a pet: the options past "add a plan" need a manager (seed 000).
#[derive(Debug, Object)]
pub struct NewPlan {
    /// The pet, of this client.
    pub pet_id: Uuid,
    /// The template; the plan is sold on the version it sells now.
    pub template_id: Uuid,
    /// `monthly` (default) or `paid_in_full` (a manager's choice).
    pub billing: Option<Stored<Billing>>,
    /// The first day: today (default) or up to 90 days ahead, which makes the plan pending.
    pub starts_on: Option<NaiveDate>,
    /// `auto` (default), `manual` or `do_not_renew`.
    pub renewal: Option<Stored<Renewal>>,
    /// Waive the enrolment fee (a manager's choice).
    #[oai(default)]
    pub waive_initial_fee: bool,
    /// The client's saved card to charge (see listPaymentCards).
    pub payment_profile_id: Option<Uuid>,
    /// Enrol without a payment method (a manager's choice).
    #[oai(default)]
    pub skip_payment_method: bool,
    /// Take the initial charge at the desk instead of electronically (a manager's choice).
    #[oai(default)]
    pub skip_initial_charge: bool,
    /// Add-on items of the template's current version to include.
    #[oai(default)]
    pub add_on_item_ids: AddOns,
    /// A second owner to name on the agreement (blank: none).
    pub co_owner: Option<Text<0, { enrolment::MAX_CO_OWNER_CHARS }>>,
}

/// The add-on items chosen.
type AddOns = Limited<Vec<Uuid>, Items<{ plan_templates::MAX_ITEMS }>>;

impl NewPlan {
    fn enrolment(self) -> Enrolment {
        Enrolment {
            pet_id: self.pet_id,
            template_id: self.template_id,
            billing: self.billing.map_or(Billing::Monthly, |b| b.0),
            starts_on: self.starts_on,
            renewal: self.renewal.map_or(Renewal::Auto, |r| r.0),
            waive_initial_fee: self.waive_initial_fee,
            payment_profile_id: self.payment_profile_id,
            skip_payment_method: self.skip_payment_method,
            skip_initial_charge: self.skip_initial_charge,
            add_on_item_ids: self.add_on_item_ids.into_inner(),
            co_owner: self.co_owner.map(Limited::into_inner),
        }
    }
}

/// What an enrolment would cost.
#[derive(Debug, Object)]
pub struct PlanQuote {
    /// The enrolment fee (0 when waived; less the multi-pet discount for a client's second pet).
    pub initial_fee_cents: i64,
    /// Charged at enrolment: the fee and the first instalment, or the fee and the paid-in-full price.
    pub initial_charge_cents: i64,
    /// The whole term.
    pub total_cents: i64,
    /// The first day…
    pub starts_on: NaiveDate,
    /// …and the last.
    pub ends_on: NaiveDate,
    /// Each payment's day and amount, the initial charge first.
    pub schedule: Vec<QuotedPayment>,
}

/// A payment a quote foresees.
#[derive(Debug, Object)]
pub struct QuotedPayment {
    /// What it is for.
    pub kind: Stored<PaymentKind>,
    /// Its day.
    pub due_on: NaiveDate,
    /// Its amount in cents.
    pub amount_cents: i64,
}

impl From<Quote> for PlanQuote {
    fn from(q: Quote) -> Self {
        Self {
            initial_fee_cents: q.initial_fee_cents,
            initial_charge_cents: q.initial_charge_cents(),
            total_cents: q.total_cents(),
            starts_on: q.starts_on,
            ends_on: q.ends_on,
            schedule: q
                .schedule
                .into_iter()
                .map(|d| QuotedPayment { kind: d.kind.into(), due_on: d.due_on, amount_cents: d.amount_cents })
                .collect(),
        }
    }
}

/// The choices a quote prices.
#[derive(Debug, Object)]
pub struct QuoteRequest {
    /// `monthly` (default) or `paid_in_full`.
    pub billing: Option<Stored<Billing>>,
    /// Without the enrolment fee.
    #[oai(default)]
    pub waive_initial_fee: bool,
    /// The first day (default today).
    pub starts_on: Option<NaiveDate>,
    /// The client enrolling: their household's multi-pet discount comes off the fee.
    pub client_id: Option<Uuid>,
    /// Add-on items to include.
    #[oai(default)]
    pub add_on_item_ids: AddOns,
}

/// A pet enrolled.
#[derive(ApiResponse)]
enum PlanCreated {
    /// Enrolled.
    #[oai(status = 201)]
    Created(Json<Plan>),
}

/// Put a plan on hold.
#[derive(Debug, Object)]
pub struct PlanHold {
    /// `financial`, `expired_card`, `incomplete_account`, `missing_documents`, `deceased_pet` or `other`.
    pub reason: Stored<HoldReason>,
    /// More about it (required with `other`).
    pub note: Option<Text<0, { lifecycle::MAX_REASON_CHARS }>>,
}

/// What a release does with the payments that fell due during the hold.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum MissedPayments {
    /// Charge them now: they are due today.
    Charge,
    /// Move them past the term, a month apart.
    MoveAfterTerm,
    /// Cancel them: the owner no longer owes them.
    Cancel,
}

/// Release a plan from its hold.
#[derive(Debug, Object)]
pub struct PlanRelease {
    /// What to do with the payments that fell due during the hold.
    pub missed: MissedPayments,
}

/// Change a plan to another template.
#[derive(Debug, Object)]
pub struct PlanChange {
    /// The template whose current version the plan moves to (same term).
    pub template_id: Uuid,
}

/// What was paid beyond what is owed.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RefundChoice {
    /// Paid back to the cards that paid it, through the payment gateway.
    Card,
    /// Paid back outside Petbridge: the payments are recorded as refunded.
    Elsewhere,
    /// The practice keeps it.
    Keep,
}

/// Cancel a plan.
#[derive(Debug, Object)]
pub struct PlanCancellation {
    /// Why (required).
    pub reason: Text<1, { lifecycle::MAX_REASON_CHARS }>,
    /// The figure owed in cents, in place of the policy's (required when the policy is `manager_figure`).
    pub owed_cents: Option<Cents>,
    /// Required when the owner paid more than is owed.
    pub refund: Option<RefundChoice>,
}

/// What cancelling a plan would do, with its working.
#[derive(Debug, Object)]
pub struct PlanCancelPreview {
    /// The practice's policy.
    pub policy: Stored<CancellationPolicy>,
    /// Collected so far, less refunds, in cents.
    pub collected_cents: i64,
    /// Still owed on the schedule: every such payment is cancelled.
    pub unpaid_cents: i64,
    /// The retail value of the items used.
    pub used_retail_cents: i64,
    /// The enrolment fee, received with the plan.
    pub initial_fee_cents: i64,
    /// What the owner owes: one payment due today.
    pub owed_cents: i64,
    /// What the owner paid beyond what is owed.
    pub refund_due_cents: i64,
    /// Each step of the sum, in words.
    pub working: Vec<String>,
}

impl From<CancelPreview> for PlanCancelPreview {
    fn from(p: CancelPreview) -> Self {
        Self {
            policy: p.policy.into(),
            collected_cents: p.collected_cents,
            unpaid_cents: p.unpaid_cents,
            used_retail_cents: p.used_retail_cents,
            initial_fee_cents: p.initial_fee_cents,
            owed_cents: p.owed_cents,
            refund_due_cents: p.refund_due_cents,
            working: p.working,
        }
    }
}

/// What a renewal is sold as; absent fields keep the renewed plan's.
#[derive(Debug, Object)]
pub struct NewRenewal {
    /// The template (default: the one the plan renews into, or its own).
    pub template_id: Option<Uuid>,
    /// `monthly` or `paid_in_full`: billing changes only at renewal.
    pub billing: Option<Stored<Billing>>,
}

/// How a plan renews.
#[derive(Debug, Object)]
pub struct RenewalChanges {
    /// `auto`, `manual` or `do_not_renew`; setting it clears a blocked renewal for the job to try again.
    pub renewal: Option<Stored<Renewal>>,
    /// For a renewal not yet started or paid: the template it is sold on.
    pub template_id: Option<Uuid>,
    /// For a renewal not yet started or paid: `monthly` or `paid_in_full`.
    pub billing: Option<Stored<Billing>>,
}

impl NewRenewal {
    fn terms(&self) -> RenewalTerms {
        RenewalTerms { template_id: self.template_id, billing: self.billing.as_ref().map(|b| b.0) }
    }
}

/// The permission a renewal's billing needs: paid in full is its own.
fn renewal_permission(billing: Option<&Stored<Billing>>) -> Permission {
    match billing.map(|b| b.0) {
        Some(Billing::PaidInFull) => Permission::RenewalsMarkPaidInFull,
        _ => Permission::RenewalsConfigure,
    }
}

/// A note's text.
#[derive(Debug, Object)]
pub struct PlanNoteBody {
    /// What it says.
    pub body: Text<1, MAX_NOTE_CHARS>,
}

/// A note added.
#[derive(ApiResponse)]
enum NoteCreated {
    /// Added.
    #[oai(status = 201)]
    Created(Json<PlanNote>),
}

/// This feature's operations of the staff API.
pub struct PlansApi;

#[OpenApi]
impl PlansApi {
    /// The practice's plan templates at the versions sold now, by code.
    #[oai(path = "/plan-templates", method = "get", tag = "Tag::Plans", operation_id = "listPlanTemplates")]
    async fn list(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// Include templates no longer sold.
        #[oai(default)]
        retired: Query<bool>,
    ) -> ApiResult<Json<Vec<PlanTemplate>>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        let list = plan_templates::list(&platform, auth.principal().scope(), retired.0).await?;
        Ok(Json(list.into_iter().map(PlanTemplate::from).collect()))
    }
    /// One plan template at the version sold now.
    #[oai(path = "/plan-templates/:id", method = "get", tag = "Tag::Plans", operation_id = "getPlanTemplate")]
    async fn get(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<PlanTemplate>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        Ok(Json(plan_templates::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
    /// Every saved version of a template, newest first.
    #[oai(
        path = "/plan-templates/:id/versions",
        method = "get",
        tag = "Tag::Plans",
        operation_id = "listPlanTemplateVersions"
    )]
    async fn versions(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<PlanTemplateVersion>>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        let versions = plan_templates::versions(&platform, auth.principal().scope(), id.0).await?;
        Ok(Json(versions.into_iter().map(PlanTemplateVersion::from).collect()))
    }
    /// Add a plan template (409 `plan_code_taken` when its code is in use).
    #[oai(path = "/plan-templates", method = "post", tag = "Tag::Plans", operation_id = "createPlanTemplate")]
    async fn create(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<PlanTemplateDraft>,
    ) -> ApiResult<TemplateCreated> {
        let who = authorize(&platform, &auth, Permission::ItemsManage).await?;
        let scope = auth.principal().scope();
        let made = plan_templates::create(&platform, scope, &who, auth.origin(), body.0.into()).await?;
        Ok(TemplateCreated::Created(Json(made.into())))
    }
    /// Save a template's next version: plans sold before keep the version
    /// they were sold on.
    #[oai(path = "/plan-templates/:id", method = "put", tag = "Tag::Plans", operation_id = "revisePlanTemplate")]
    async fn revise(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanTemplateDraft>,
    ) -> ApiResult<Json<PlanTemplate>> {
        let who = authorize(&platform, &auth, Permission::ItemsManage).await?;
        let scope = auth.principal().scope();
        Ok(Json(plan_templates::revise(&platform, scope, &who, auth.origin(), id.0, body.0.into()).await?.into()))
    }
    /// Stop selling a template, or sell it again.
    #[oai(path = "/plan-templates/:id", method = "patch", tag = "Tag::Plans", operation_id = "offerPlanTemplate")]
    async fn offer(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanTemplateOffer>,
    ) -> ApiResult<Json<PlanTemplate>> {
        let who = authorize(&platform, &auth, Permission::ItemsManage).await?;
        let scope = auth.principal().scope();
        let changed = plan_templates::set_retired(&platform, scope, &who, auth.origin(), id.0, body.0.retired).await?;
        Ok(Json(changed.into()))
    }
    /// What enrolling on a template's current version would cost.
    #[oai(path = "/plan-templates/:id/quote", method = "post", tag = "Tag::Plans", operation_id = "quotePlan")]
    async fn quote(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<QuoteRequest>,
    ) -> ApiResult<Json<PlanQuote>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        let scope = auth.principal().scope();
        let billing = body.0.billing.map_or(Billing::Monthly, |b| b.0);
        let quote = enrolment::quote_for(
            &platform,
            scope,
            id.0,
            billing,
            body.0.waive_initial_fee,
            body.0.starts_on,
            (body.0.client_id, &body.0.add_on_item_ids),
        )
        .await?;
        Ok(Json(quote.into()))
    }
    /// Enrol a pet of this client. Waiving the fee, paid in full, no payment
    /// method and no electronic initial charge each need a manager, logged
    /// in or approving in place.
    #[oai(path = "/clients/:id/plans", method = "post", tag = "Tag::Plans", operation_id = "enrolPet")]
    async fn enrol(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewPlan>,
    ) -> ApiResult<PlanCreated> {
        let enrolment = body.0.enrolment();
        // The strictest permission the choices need: whoever holds it holds the rest.
        let needed =
            enrolment.permissions().into_iter().max_by_key(|p| p.minimum_level()).unwrap_or(Permission::PlansAdd);
        let who = authorize(&platform, &auth, needed).await?;
        let scope = auth.principal().scope();
        let plan = enrolment::enrol(&platform, scope, &who, auth.origin(), id.0, enrolment).await?;
        Ok(PlanCreated::Created(Json(plan.into())))
    }
    /// A client's plans, newest first.
    #[oai(path = "/clients/:id/plans", method = "get", tag = "Tag::Plans", operation_id = "listClientPlans")]
    async fn client_plans(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Plan>>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        let plans = records::of_client(&platform, auth.principal().scope(), id.0).await?;
        Ok(Json(plans.into_iter().map(Plan::from).collect()))
    }
    /// One plan: its items, what is left of them, and its payments.
    #[oai(path = "/plans/:id", method = "get", tag = "Tag::Plans", operation_id = "getPlan")]
    async fn plan(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Plan>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        Ok(Json(records::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
    /// A healthcare agreement of a plan as a PDF, to print or save.
    #[oai(
        path = "/plans/:id/agreements/:agreement_id",
        method = "get",
        tag = "Tag::Plans",
        operation_id = "getPlanAgreement"
    )]
    async fn agreement(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        agreement_id: Path<Uuid>,
    ) -> ApiResult<AgreementPdf> {
        authorize(&platform, &auth, Permission::AgreementsPrint).await?;
        Ok(agreements::file(&platform, auth.principal().scope(), id.0, agreement_id.0).await?.into())
    }
    /// Put a plan on hold: its payments stop until a manager releases it.
    #[oai(path = "/plans/:id/hold", method = "post", tag = "Tag::Plans", operation_id = "holdPlan")]
    async fn hold(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanHold>,
    ) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::PlansHold).await?;
        let note = body.0.note.map(Limited::into_inner);
        let plan = lifecycle::hold(
            &platform,
            auth.principal().scope(),
            &who,
            auth.origin(),
            id.0,
            body.0.reason.0,
            note.as_deref(),
        )
        .await?;
        Ok(Json(plan.into()))
    }
    /// Release a plan from its hold: charge the payments missed meanwhile,
    /// move them past the term, or cancel them.
    #[oai(path = "/plans/:id/release", method = "post", tag = "Tag::Plans", operation_id = "releasePlan")]
    async fn release(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanRelease>,
    ) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::PlansHold).await?;
        let missed = match body.0.missed {
            MissedPayments::Charge => Missed::Charge,
            MissedPayments::MoveAfterTerm => Missed::MoveAfterTerm,
            MissedPayments::Cancel => Missed::Cancel,
        };
        let plan = lifecycle::release(&platform, auth.principal().scope(), &who, auth.origin(), id.0, missed).await?;
        Ok(Json(plan.into()))
    }
    /// Change a plan to another template of the same term: the start day
    /// stays and the difference is spread over the payments still scheduled.
    #[oai(path = "/plans/:id/change", method = "post", tag = "Tag::Plans", operation_id = "changePlan")]
    async fn change(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanChange>,
    ) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::PlansChange).await?;
        let scope = auth.principal().scope();
        Ok(Json(lifecycle::change(&platform, scope, &who, auth.origin(), id.0, body.0.template_id).await?.into()))
    }
    /// What cancelling a plan would do under the practice's policy (or with
    /// the manager's figure), with its working.
    #[oai(
        path = "/plans/:id/cancellation",
        method = "get",
        tag = "Tag::Plans",
        operation_id = "previewPlanCancellation"
    )]
    async fn preview_cancel(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        /// The figure owed in cents, in place of the policy's.
        owed_cents: Query<Option<Cents>>,
    ) -> ApiResult<Json<PlanCancelPreview>> {
        // Arithmetic on what the plan view shows already: whoever sees plans may see it.
        authorize(&platform, &auth, Permission::PlansView).await?;
        let figure = owed_cents.0.map(Limited::into_inner);
        Ok(Json(lifecycle::preview_cancel(&platform, auth.principal().scope(), id.0, figure).await?.into()))
    }
    /// Cancel a plan: every payment still owed is cancelled, and what the
    /// practice's policy says is owed becomes one payment due today.
    #[oai(path = "/plans/:id/cancel", method = "post", tag = "Tag::Plans", operation_id = "cancelPlan")]
    async fn cancel(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanCancellation>,
    ) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::PlansCancel).await?;
        let body = body.0;
        let request = Cancellation {
            reason: body.reason.into_inner(),
            owed_cents: body.owed_cents.map(Limited::into_inner),
            refund: body.refund.map(|r| match r {
                RefundChoice::Card => Refund::Card,
                RefundChoice::Elsewhere => Refund::Elsewhere,
                RefundChoice::Keep => Refund::Keep,
            }),
        };
        Ok(Json(
            lifecycle::cancel(&platform, auth.principal().scope(), &who, auth.origin(), id.0, request).await?.into(),
        ))
    }
    /// Add a note to a plan.
    #[oai(path = "/plans/:id/notes", method = "post", tag = "Tag::Plans", operation_id = "addPlanNote")]
    async fn add_note(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanNoteBody>,
    ) -> ApiResult<NoteCreated> {
        let who = authorize(&platform, &auth, Permission::NotesAdd).await?;
        let note = notes::add(&platform, auth.principal().scope(), &who, auth.origin(), id.0, &body.0.body).await?;
        Ok(NoteCreated::Created(Json(note.into())))
    }
    /// Rewrite a note (administrators).
    #[oai(path = "/plan-notes/:id", method = "patch", tag = "Tag::Plans", operation_id = "editPlanNote")]
    async fn edit_note(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanNoteBody>,
    ) -> ApiResult<Json<PlanNote>> {
        let who = authorize(&platform, &auth, Permission::NotesEdit).await?;
        let note = notes::edit(&platform, auth.principal().scope(), &who, auth.origin(), id.0, &body.0.body).await?;
        Ok(Json(note.into()))
    }
    /// Delete a note (administrators); the plan's history keeps what it said.
    #[oai(path = "/plan-notes/:id", method = "delete", tag = "Tag::Plans", operation_id = "deletePlanNote")]
    async fn delete_note(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let who = authorize(&platform, &auth, Permission::NotesEdit).await?;
        notes::delete(&platform, auth.principal().scope(), &who, auth.origin(), id.0).await?;
        Ok(Done::NoContent)
    }
    /// Renew a plan now: the renewal starts the day after its term, on the
    /// template it renews into (or another), without an enrolment fee.
    #[oai(path = "/plans/:id/renew", method = "post", tag = "Tag::Plans", operation_id = "renewPlan")]
    async fn renew(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewRenewal>,
    ) -> ApiResult<PlanCreated> {
        let who = authorize(&platform, &auth, renewal_permission(body.0.billing.as_ref())).await?;
        let scope = auth.principal().scope();
        let renewal = renewals::renew(&platform, scope, &who, auth.origin(), id.0, body.0.terms()).await?;
        Ok(PlanCreated::Created(Json(renewal.into())))
    }
    /// Set how a plan renews, or configure a renewal not yet started or paid.
    #[oai(path = "/plans/:id/renewal", method = "patch", tag = "Tag::Plans", operation_id = "configureRenewal")]
    async fn configure_renewal(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<RenewalChanges>,
    ) -> ApiResult<Json<Plan>> {
        let body = body.0;
        let who = authorize(&platform, &auth, renewal_permission(body.billing.as_ref())).await?;
        let terms = RenewalTerms { template_id: body.template_id, billing: body.billing.map(|b| b.0) };
        let mode = body.renewal.map(|r| r.0);
        let scope = auth.principal().scope();
        Ok(Json(renewals::configure(&platform, scope, &who, auth.origin(), id.0, mode, terms).await?.into()))
    }
    /// Start a pending plan today: a renewal started early completes the plan it renews.
    #[oai(path = "/plans/:id/activate", method = "post", tag = "Tag::Plans", operation_id = "activatePlan")]
    async fn activate(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::RenewalsActivate).await?;
        Ok(Json(renewals::activate(&platform, auth.principal().scope(), &who, auth.origin(), id.0).await?.into()))
    }
}
