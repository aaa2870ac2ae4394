//! The household's wellness plans in the app API: what each pet's plan
//! covers, what is left of it, the next payment, its healthcare agreements
//! to read and sign, and stopping a renewal.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    db::entities::{
        plan::{Billing, Renewal, Status},
        plan_payment::{self, PaymentStatus},
    },
    plans::{
        agreements::{self, MAX_SIGNATURE_CHARS, Signature},
        records::{self, PlanRecord},
        renewals,
    },
};
use petbridge_http::{
    ApiResult, RequestContext,
    fields::{Stored, Text},
    payments::PaymentCard,
    plans::{AgreementPdf, PlanAgreement, PlanItemBalance},
};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{OwnerAuth, household_id},
    tags::Tag,
};

/// A payment still to be made.
#[derive(Debug, Object)]
pub struct NextPayment {
    /// Its day.
    pub due_on: NaiveDate,
    /// Its amount in cents.
    pub amount_cents: i64,
}

/// A pet's wellness plan.
#[derive(Debug, Object)]
pub struct Plan {
    /// Id.
    pub id: Uuid,
    /// The pet.
    pub pet_id: Uuid,
    /// The pet's name.
    pub pet_name: String,
    /// The plan's name.
    pub name: String,
    /// Where it stands.
    pub status: Stored<Status>,
    /// Monthly or paid in full.
    pub billing: Stored<Billing>,
    /// The first day.
    pub starts_on: NaiveDate,
    /// The term's last day.
    pub ends_on: NaiveDate,
    /// `auto` (renews by itself), `manual` (the practice renews it) or `do_not_renew`.
    pub renewal: Stored<Renewal>,
    /// The plan this one renews, when it is a renewal.
    pub renews_plan_id: Option<Uuid>,
    /// What the plan covers and what is left of each this term.
    pub items: Vec<PlanItemBalance>,
    /// The next payment; absent when nothing more is owed.
    pub next_payment: Option<NextPayment>,
    /// The healthcare agreements it was issued, oldest first; the newest is in force.
    pub agreements: Vec<PlanAgreement>,
    /// Every payment, by due day: the payment history and what is to come.
    pub payments: Vec<AppPayment>,
    /// The card it charges.
    pub card: Option<PaymentCard>,
}

/// A payment of a plan, as its owner sees it.
#[derive(Debug, Object)]
pub struct AppPayment {
    /// Id (to pay a declined one: payOwedPayment).
    pub id: Uuid,
    /// Its day.
    pub due_on: NaiveDate,
    /// Its amount in cents.
    pub amount_cents: i64,
    /// `scheduled`, `processing`, `paid`, `failed` (tried again on `retry_on`), `past_due`,
    /// `paid_external` (paid at the practice), `cancelled`, `refunded`, `partially_refunded` or `disputed`.
    pub status: Stored<PaymentStatus>,
    /// When it was paid, cancelled or refunded.
    pub settled_at: Option<DateTime<Utc>>,
    /// The day a declined payment is tried again.
    pub retry_on: Option<NaiveDate>,
    /// What of it was paid back, in cents.
    pub refunded_cents: i64,
}

impl From<plan_payment::Model> for AppPayment {
    fn from(p: plan_payment::Model) -> Self {
        Self {
            id: p.id,
            due_on: p.due_on,
            amount_cents: p.amount_cents,
            status: p.status.into(),
            settled_at: p.settled_at,
            retry_on: p.retry_on,
            refunded_cents: p.refunded_cents,
        }
    }
}

/// Sign an agreement by typing one's full name.
#[derive(Debug, Object)]
pub struct AgreementSigning {
    /// The owner's full name, as they sign.
    pub typed_name: Text<1, MAX_SIGNATURE_CHARS>,
}

impl From<PlanRecord> for Plan {
    fn from(r: PlanRecord) -> Self {
        let next_payment = r.next_payment().map(|p| NextPayment { due_on: p.due_on, amount_cents: p.amount_cents });
        Self {
            id: r.plan.id,
            pet_id: r.plan.pet_id,
            pet_name: r.pet_name,
            name: r.version.name,
            status: r.plan.status.into(),
            billing: r.plan.billing.into(),
            starts_on: r.plan.starts_on,
            ends_on: r.plan.ends_on,
            renewal: r.plan.renewal.into(),
            renews_plan_id: r.plan.renews_plan_id,
            items: PlanItemBalance::all(r.items),
            next_payment,
            agreements: r.agreements.into_iter().map(PlanAgreement::from).collect(),
            payments: r.payments.into_iter().map(AppPayment::from).collect(),
            card: r.card.filter(|c| c.removed_at.is_none()).map(PaymentCard::from),
        }
    }
}

/// This feature's operations of the app API.
pub struct PlansApi;

#[OpenApi]
impl PlansApi {
    /// The household's wellness plans, newest first.
    #[oai(path = "/plans", method = "get", tag = "Tag::Plans", operation_id = "listPlans")]
    async fn plans(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Plan>>> {
        let household = household_id(&platform, &auth).await?;
        let plans = records::of_client(&platform, auth.0.scope(), household).await?;
        Ok(Json(plans.into_iter().map(Plan::from).collect()))
    }
    /// Stop a plan renewing: it ends with its term, and a renewal already
    /// prepared (this plan, or the one renewing it) is cancelled with nothing owed.
    #[oai(path = "/plans/:id/stop-renewal", method = "post", tag = "Tag::Plans", operation_id = "stopPlanRenewal")]
    async fn stop_renewal(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Plan>> {
        let household = household_id(&platform, &auth).await?;
        Ok(Json(renewals::stop_by_owner(&platform, auth.0.scope(), household, id.0).await?.into()))
    }
    /// A healthcare agreement of one of the household's plans, as a PDF.
    #[oai(
        path = "/plans/:id/agreements/:agreement_id",
        method = "get",
        tag = "Tag::Plans",
        operation_id = "getAgreement"
    )]
    async fn agreement(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        agreement_id: Path<Uuid>,
    ) -> ApiResult<AgreementPdf> {
        let household = household_id(&platform, &auth).await?;
        Ok(agreements::file_for_owner(&platform, auth.0.scope(), household, id.0, agreement_id.0).await?.into())
    }
    /// Sign the plan's agreement in force: the signing record keeps the
    /// name typed, the time, the address and app it came from, and the
    /// exact words agreed to, which name the PDF's SHA-256.
    #[oai(
        path = "/plans/:id/agreements/:agreement_id/sign",
        method = "post",
        tag = "Tag::Plans",
        operation_id = "signAgreement"
    )]
    async fn sign(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        request: &poem::Request,
        id: Path<Uuid>,
        agreement_id: Path<Uuid>,
        body: Json<AgreementSigning>,
    ) -> ApiResult<Json<Plan>> {
        let household = household_id(&platform, &auth).await?;
        let user_agent = request
            .headers()
            .get(poem::http::header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .map(str::to_owned);
        // The request's context (set by the server's Observe layer) holds the client's address.
        let address = request.data::<RequestContext>().and_then(|context| context.origin.ip.clone());
        let signature = Signature { typed_name: body.0.typed_name.into_inner(), address, user_agent };
        let plan = agreements::sign(&platform, auth.0.scope(), household, (id.0, agreement_id.0), signature).await?;
        Ok(Json(plan.into()))
    }
}
