//! The page an owner reaches from a dunning email (PLANS.md B6), without
//! logging in: the link's signed token names one payment, and what it
//! allows is what the owner would do for it in the app: pay it on the card
//! on file, confirm with their bank a charge it asked them to, or give
//! another card, which then pays it. The link opens nothing once the
//! payment is no longer owed, and nothing of another payment.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    Actor, DomainError, DomainResult, Origin, Platform, Scope,
    db::entities::{
        client,
        payment_attempt::{self, AttemptStatus},
        payment_profile, pet, plan,
        plan_payment::{self, PaymentStatus},
        plan_template_version,
    },
    deliveries::links::{self, LinkPurpose},
    kernel::caller::Authorized,
    payments::{
        charges::{self, Charged},
        profiles::{self, CardSetup, TakesOver},
    },
    ports::payments::ChargeOutcome,
    practices,
};

/// What the page shows of the payment a link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    /// The practice's name.
    pub practice: String,
    /// The household's first name.
    pub first_name: String,
    /// The pet the plan covers.
    pub pet: String,
    /// The plan's name.
    pub plan: String,
    /// The payment.
    pub payment_id: Uuid,
    /// Its amount.
    pub amount_cents: i64,
    /// Its day.
    pub due_on: NaiveDate,
    /// Where it stands.
    pub status: PaymentStatus,
    /// Its next retry, while one is due.
    pub retry_on: Option<NaiveDate>,
    /// The card on file (brand, last 4), if one is.
    pub card: Option<(String, String)>,
    /// The charge the bank asked the owner to confirm, if that is what waits.
    pub to_confirm: Option<Confirmation>,
}

/// What the owner's browser needs to confirm a charge with their bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The gateway's script and key.
    pub fields: crate::ports::payments::CardFields,
    /// The charge's secret, for the gateway's script alone.
    pub client_secret: String,
}

/// The payment a link names, with its practice and household.
struct Linked {
    scope: Scope,
    payment: plan_payment::Model,
    plan: plan::Model,
}

async fn linked(platform: &Platform, token: &str) -> DomainResult<Linked> {
    let id = links::verify(platform, LinkPurpose::Payment, token).await?;
    let payment = plan_payment::Entity::find_by_id(id).one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    let plan = plan::Entity::find_by_id(payment.plan_id).one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    Ok(Linked { scope: Scope { practice_id: payment.practice_id }, payment, plan })
}

/// The latest attempt at the payment, when it waits for the owner's bank.
async fn waiting_for_bank(platform: &Platform, payment_id: Uuid) -> DomainResult<Option<payment_attempt::Model>> {
    let latest = payment_attempt::Entity::find()
        .filter(payment_attempt::Column::PaymentId.eq(payment_id))
        .order_by_desc(payment_attempt::Column::StartedAt)
        .one(&platform.db)
        .await?;
    Ok(latest.filter(|a| a.status == AttemptStatus::RequiresAction && a.intent_ref.is_some()))
}

/// What the link `token` opens (`NotFound` for a forged or mangled one).
pub async fn open(platform: &Platform, token: &str) -> DomainResult<Owed> {
    let Linked { scope, payment, plan } = linked(platform, token).await?;
    let practice = practices::get(platform, scope).await?;
    let household = client::Entity::find_by_id(plan.client_id).one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    let pet = pet::Entity::find_by_id(plan.pet_id).one(&platform.db).await?.map(|p| p.name).unwrap_or_default();
    let version = plan_template_version::Entity::find_by_id(plan.version_id).one(&platform.db).await?;
    let card = match plan.payment_profile_id {
        Some(id) => payment_profile::Entity::find_by_id(id)
            .filter(payment_profile::Column::RemovedAt.is_null())
            .one(&platform.db)
            .await?
            .map(|c| (c.brand, c.last4)),
        None => None,
    };
    let to_confirm = match waiting_for_bank(platform, payment.id).await? {
        Some(attempt) if payment.unpaid() => {
            let intent = platform.payments.payment_intent(attempt.intent_ref.as_deref().unwrap_or_default()).await?;
            let fields = platform.payments.card_fields();
            fields.map(|fields| Confirmation { fields, client_secret: intent.client_secret })
        }
        _ => None,
    };
    Ok(Owed {
        practice: practice.name,
        first_name: household.first_name,
        pet,
        plan: version.map(|v| v.name).unwrap_or_default(),
        payment_id: payment.id,
        amount_cents: payment.amount_cents,
        due_on: payment.due_on,
        status: payment.status,
        retry_on: payment.retry_on,
        card,
        to_confirm,
    })
}

/// Pays the linked payment now, on the plan's card.
pub async fn pay(platform: &Platform, token: &str) -> DomainResult<Charged> {
    let Linked { scope, payment, plan } = linked(platform, token).await?;
    charges::pay_owed(platform, scope, (plan.client_id, payment.id), &Actor::owner_by_link()).await
}

/// Starts giving another card for the linked payment's household.
pub async fn begin_card(platform: &Platform, token: &str) -> DomainResult<CardSetup> {
    let Linked { scope, plan, .. } = linked(platform, token).await?;
    profiles::begin(platform, scope, plan.client_id).await
}

/// Saves the card the owner confirmed on `setup_intent`: every plan of the
/// household charges it from now, and what was declined is tried on it.
pub async fn save_card(platform: &Platform, token: &str, setup_intent: &str) -> DomainResult<profiles::Saved> {
    let Linked { scope, plan, .. } = linked(platform, token).await?;
    let owner = Authorized { actor: Actor::owner_by_link(), approver: None };
    let card = (plan.client_id, setup_intent);
    profiles::save(platform, scope, &owner, &Origin::default(), card, TakesOver::AllPlans).await
}

/// After the owner confirmed the charge with their bank in the gateway's
/// script: reads the charge back and settles it as the gateway says (a
/// webhook may have done so already; settling is only forward).
pub async fn confirmed(platform: &Platform, token: &str) -> DomainResult<Charged> {
    let Linked { scope, payment, .. } = linked(platform, token).await?;
    let Some(attempt) = waiting_for_bank(platform, payment.id).await? else {
        return Ok(if payment.unpaid() { Charged::Pending } else { Charged::Paid });
    };
    let intent = attempt.intent_ref.clone().unwrap_or_default();
    let state = platform.payments.payment_intent(&intent).await?;
    let outcome = match state.status.as_str() {
        "succeeded" => ChargeOutcome::Succeeded { intent },
        "processing" => ChargeOutcome::Processing { intent },
        // Not confirmed (yet): it still waits for the owner.
        _ => return Ok(Charged::AuthenticationRequired),
    };
    charges::settle(platform, scope, attempt.id, &outcome, &Actor::owner_by_link(), &Origin::default()).await
}
