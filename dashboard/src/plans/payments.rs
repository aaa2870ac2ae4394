//! Card payments in the staff API (PLANS.md B3, B4): a client's cards,
//! saved through the gateway's own card fields, the card each plan
//! charges, and charging a payment now.

use chrono::NaiveDate;
use petbridge_domain::{
    Platform,
    db::entities::plan_payment::SupplementalPurpose,
    kernel::permissions::Permission,
    payments::{
        actions::{self, Supplemental},
        charges,
        profiles::{self, TakesOver},
    },
    plans::records,
};
use petbridge_http::{
    ApiResult,
    fields::{Stored, Text},
    payments::{CardSetupStart, ChargeOutcomeView, PaymentCard},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::api::Plan;
use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::Done,
    tags::Tag,
};

/// The card a setup saved.
#[derive(Debug, Object)]
pub struct CardSaved {
    /// The setup the card fields confirmed (`seti_…`).
    pub setup_intent: Text<1, 255>,
}

/// A saved card, and what saving it did.
#[derive(Debug, Object)]
pub struct SavedCard {
    /// The card.
    pub card: PaymentCard,
    /// The client's plans that charge it from now on: those without a
    /// usable card, or owing a declined payment.
    pub plans: Vec<Uuid>,
    /// What trying each payment owed again on it came to.
    pub retried: Vec<ChargeOutcomeView>,
}

/// Saved.
#[derive(ApiResponse)]
pub enum CardCreated {
    /// The card is saved.
    #[oai(status = 201)]
    Created(Json<SavedCard>),
}

/// The card a plan charges.
#[derive(Debug, Object)]
pub struct PlanCard {
    /// One of the client's saved cards.
    pub payment_profile_id: Uuid,
}

/// Whether a plan's payments are charged by themselves.
#[derive(Debug, Object)]
pub struct AutoCharge {
    /// On (due payments are charged on their day) or off (collected by hand).
    pub on: bool,
}

/// A payment charged, and the plan after it.
#[derive(Debug, Object)]
pub struct PaymentCharged {
    /// How the charge came out.
    pub outcome: ChargeOutcomeView,
    /// The plan, with the payment and its attempt.
    pub plan: Plan,
}

/// A payment an administrator adds to a plan.
#[derive(Debug, Object)]
pub struct NewSupplementalPayment {
    /// `nsf` (a returned payment's fee), `card_fee`, `late_fee` or `other`.
    pub purpose: Stored<SupplementalPurpose>,
    /// Its amount in cents, 1 to 10,000,000.
    pub amount_cents: i64,
    /// Its day, from today to a year ahead; today when left out.
    pub due_on: Option<NaiveDate>,
    /// What it is for (required with `other`), up to 500 characters.
    pub note: Option<Text<0, 500>>,
    /// A payment still owed that this one replaces: it is cancelled (for good) in the same step.
    pub replaces_payment_id: Option<Uuid>,
}

/// Added.
#[derive(ApiResponse)]
pub enum SupplementalAdded {
    /// The plan, with the new payment last.
    #[oai(status = 201)]
    Created(Json<Plan>),
}

/// What one payment's charge came to.
#[derive(Debug, Object)]
pub struct PaymentOutcome {
    /// The payment.
    pub payment_id: Uuid,
    /// How its charge came out.
    pub outcome: ChargeOutcomeView,
}

/// The remaining payments charged, and the plan after them.
#[derive(Debug, Object)]
pub struct RemainingCharged {
    /// Each payment charged, oldest first; the run stops at the first not paid.
    pub outcomes: Vec<PaymentOutcome>,
    /// The plan after the charges.
    pub plan: Plan,
}

/// Card payments.
pub struct PaymentsApi;

#[OpenApi]
impl PaymentsApi {
    /// Start saving a card for a client: show the gateway's card fields with
    /// what this answers, confirm the setup there, then send it to savePaymentCard.
    /// No card number ever reaches this server.
    #[oai(
        path = "/clients/:id/payment-cards/setup",
        method = "post",
        tag = "Tag::Payments",
        operation_id = "beginCardSetup"
    )]
    async fn begin_setup(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<CardSetupStart>> {
        authorize(&platform, &auth, Permission::PaymentProfilesAdd).await?;
        Ok(Json(profiles::begin(&platform, auth.principal().scope(), id.0).await?.into()))
    }

    /// Save the card a setup confirmed. The client's plans without a usable
    /// card charge it from now on, and what they owe is tried on it at once.
    #[oai(
        path = "/clients/:id/payment-cards",
        method = "post",
        tag = "Tag::Payments",
        operation_id = "savePaymentCard"
    )]
    async fn save(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<CardSaved>,
    ) -> ApiResult<CardCreated> {
        let who = authorize(&platform, &auth, Permission::PaymentProfilesAdd).await?;
        let setup = body.0.setup_intent.into_inner();
        let scope = auth.principal().scope();
        let card = (id.0, setup.as_str());
        let saved = profiles::save(&platform, scope, &who, auth.origin(), card, TakesOver::PlansWanting).await?;
        Ok(CardCreated::Created(Json(SavedCard {
            card: saved.profile.into(),
            plans: saved.plans,
            retried: saved.retried.into_iter().map(ChargeOutcomeView::from).collect(),
        })))
    }

    /// A client's saved cards, newest first.
    #[oai(
        path = "/clients/:id/payment-cards",
        method = "get",
        tag = "Tag::Payments",
        operation_id = "listPaymentCards"
    )]
    async fn list(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<PaymentCard>>> {
        authorize(&platform, &auth, Permission::PlansView).await?;
        let cards = profiles::list(&platform, auth.principal().scope(), id.0).await?;
        Ok(Json(cards.into_iter().map(PaymentCard::from).collect()))
    }

    /// Delete a saved card: the gateway forgets it, and plans that charged
    /// it have no card until another is chosen.
    #[oai(path = "/payment-cards/:id", method = "delete", tag = "Tag::Payments", operation_id = "deletePaymentCard")]
    async fn delete(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let who = authorize(&platform, &auth, Permission::PaymentProfilesManage).await?;
        profiles::remove(&platform, auth.principal().scope(), &who, auth.origin(), id.0).await?;
        Ok(Done::NoContent)
    }

    /// Choose another of the client's saved cards for a plan.
    #[oai(path = "/plans/:id/card", method = "put", tag = "Tag::Payments", operation_id = "choosePlanCard")]
    async fn choose(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PlanCard>,
    ) -> ApiResult<Json<Plan>> {
        let who = authorize(&platform, &auth, Permission::PaymentsChooseMethod).await?;
        let scope = auth.principal().scope();
        profiles::choose_for_plan(&platform, scope, &who, auth.origin(), id.0, body.0.payment_profile_id).await?;
        Ok(Json(records::get(&platform, scope, id.0).await?.into()))
    }

    /// Charge one payment now, on the plan's card: a scheduled one ahead
    /// of its day, or a declined one again.
    #[oai(path = "/plan-payments/:id/charge", method = "post", tag = "Tag::Payments", operation_id = "chargePayment")]
    async fn charge(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<PaymentCharged>> {
        let who = authorize(&platform, &auth, Permission::PaymentsCharge).await?;
        let scope = auth.principal().scope();
        let charged = charges::charge(&platform, scope, id.0, &who.actor, auth.origin()).await?;
        let plan = records::of_payment(&platform, scope, id.0).await?;
        Ok(Json(PaymentCharged { outcome: charged.into(), plan: plan.into() }))
    }

    /// Turn a plan's auto charge off (an administrator) or back on (whoever
    /// may choose its card): off, its payments are collected by hand.
    #[oai(path = "/plans/:id/auto-charge", method = "put", tag = "Tag::Payments", operation_id = "setAutoCharge")]
    async fn auto_charge(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<AutoCharge>,
    ) -> ApiResult<Json<Plan>> {
        let needed = if body.0.on { Permission::PaymentsChooseMethod } else { Permission::AutoChargeDisable };
        let who = authorize(&platform, &auth, needed).await?;
        let scope = auth.principal().scope();
        actions::set_auto_charge(&platform, scope, (&who, auth.origin()), id.0, body.0.on).await?;
        Ok(Json(records::get(&platform, scope, id.0).await?.into()))
    }

    /// Mark a payment still owed as paid at the desk.
    #[oai(
        path = "/plan-payments/:id/paid-externally",
        method = "post",
        tag = "Tag::Payments",
        operation_id = "markPaidExternally"
    )]
    async fn paid_externally(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Plan>> {
        external(&platform, &auth, id.0, true).await
    }

    /// Undo "paid at the desk": the payment is owed again, on its day.
    #[oai(
        path = "/plan-payments/:id/paid-externally",
        method = "delete",
        tag = "Tag::Payments",
        operation_id = "undoPaidExternally"
    )]
    async fn undo_paid_externally(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Plan>> {
        external(&platform, &auth, id.0, false).await
    }

    /// Add a supplemental payment to a plan (a returned payment's fee, a
    /// card fee, anything else with a note), optionally in place of a
    /// payment still owed, which is cancelled. Charged on its day like any
    /// other when the plan charges by itself.
    #[oai(
        path = "/plans/:id/supplemental-payments",
        method = "post",
        tag = "Tag::Payments",
        operation_id = "addSupplementalPayment"
    )]
    async fn add_supplemental(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewSupplementalPayment>,
    ) -> ApiResult<SupplementalAdded> {
        let who = authorize(&platform, &auth, Permission::PaymentsSupplemental).await?;
        let scope = auth.principal().scope();
        let body = body.0;
        let supplemental = Supplemental {
            purpose: body.purpose.0,
            amount_cents: body.amount_cents,
            due_on: body.due_on,
            note: body.note.map(Text::into_inner),
            replaces: body.replaces_payment_id,
        };
        actions::add_supplemental(&platform, scope, (&who, auth.origin()), id.0, supplemental).await?;
        Ok(SupplementalAdded::Created(Json(records::get(&platform, scope, id.0).await?.into())))
    }

    /// Charge every payment a plan still owes, oldest first, now, on its
    /// card. Stops at the first that is not paid.
    #[oai(
        path = "/plans/:id/charge-remaining",
        method = "post",
        tag = "Tag::Payments",
        operation_id = "chargeRemainingPayments"
    )]
    async fn charge_remaining(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<RemainingCharged>> {
        let who = authorize(&platform, &auth, Permission::PaymentsCharge).await?;
        let scope = auth.principal().scope();
        let charged = charges::charge_remaining(&platform, scope, id.0, &who.actor, auth.origin()).await?;
        let outcomes = charged
            .into_iter()
            .map(|(payment_id, outcome)| PaymentOutcome { payment_id, outcome: outcome.into() })
            .collect();
        Ok(Json(RemainingCharged { outcomes, plan: records::get(&platform, scope, id.0).await?.into() }))
    }
}

/// markPaidExternally and undoPaidExternally: one permission, one step.
async fn external(platform: &Platform, auth: &StaffAuth, payment_id: Uuid, paid: bool) -> ApiResult<Json<Plan>> {
    let who = authorize(platform, auth, Permission::PaymentsMarkPaidExternally).await?;
    let scope = auth.principal().scope();
    let plan = actions::mark_paid_externally(platform, scope, (&who, auth.origin()), payment_id, paid).await?;
    Ok(Json(records::get(platform, scope, plan).await?.into()))
}
