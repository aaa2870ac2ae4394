//! A plan as every step reads it back: what it was sold on, what it
//! covers, its payments, notes, history and agreements. The steps
//! (enrolment, lifecycle, renewals, agreements) write; this module reads,
//! below them all.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Platform, Scope,
    db::entities::{
        activity, payment_attempt, payment_profile, payment_refund, pet, plan, plan_add_on,
        plan_agreement::{self, Occasion},
        plan_note,
        plan_payment::{self, PaymentStatus},
        plan_template_item, plan_template_version,
    },
    households::clients,
    plans::{notes, templates},
};

/// A plan with what it was sold on, what it owes, its notes and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    /// The plan.
    pub plan: plan::Model,
    /// Its template's code.
    pub template_code: String,
    /// The version it was sold on.
    pub version: plan_template_version::Model,
    /// What it covers: that version's items, and the add-ons chosen.
    pub items: Vec<plan_template_item::Model>,
    /// The pet's name.
    pub pet_name: String,
    /// The schedule, by due day.
    pub payments: Vec<plan_payment::Model>,
    /// Staff notes, oldest first.
    pub notes: Vec<plan_note::Model>,
    /// Every change, oldest first: the activity entries about the plan.
    pub history: Vec<activity::Model>,
    /// The healthcare agreements it was issued, oldest first.
    pub agreements: Vec<AgreementSummary>,
    /// The saved card it charges, if any.
    pub card: Option<payment_profile::Model>,
    /// Every try at charging its payments, oldest first.
    pub attempts: Vec<payment_attempt::Model>,
    /// Every refund to a card of its payments, oldest first.
    pub refunds: Vec<payment_refund::Model>,
}

impl PlanRecord {
    /// The next payment still to be made.
    pub fn next_payment(&self) -> Option<&plan_payment::Model> {
        self.payments.iter().find(|p| matches!(p.status, PaymentStatus::Scheduled | PaymentStatus::Failed))
    }

    /// What it still owes, in cents: every payment scheduled, failed or past due.
    pub fn owed_cents(&self) -> i64 {
        self.payments.iter().filter(|p| p.unpaid()).map(|p| p.amount_cents).sum()
    }
}

/// The plans of one client, newest first.
pub async fn of_client(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Vec<PlanRecord>> {
    clients::get(platform, scope, client_id).await?;
    let plans = plan::Entity::find()
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .filter(plan::Column::ClientId.eq(client_id))
        .order_by_desc(plan::Column::CreatedAt)
        .all(&platform.db)
        .await?;
    let mut records = Vec::with_capacity(plans.len());
    for plan in plans {
        records.push(load(&platform.db, plan).await?);
    }
    Ok(records)
}

/// One plan of the practice.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<PlanRecord> {
    load(&platform.db, find(&platform.db, scope, id).await?).await
}

/// Plan `id` of the practice, or not found.
pub(crate) async fn find(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<plan::Model> {
    plan::Entity::find_by_id(id)
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A plan's payments by due day.
pub(crate) async fn payments_of(conn: &impl ConnectionTrait, plan_id: Uuid) -> DomainResult<Vec<plan_payment::Model>> {
    Ok(plan_payment::Entity::find()
        .filter(plan_payment::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_payment::Column::DueOn)
        .order_by_asc(plan_payment::Column::Number)
        .all(conn)
        .await?)
}

pub(crate) async fn load(conn: &impl ConnectionTrait, plan: plan::Model) -> DomainResult<PlanRecord> {
    let version =
        plan_template_version::Entity::find_by_id(plan.version_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let scope = Scope { practice_id: plan.practice_id };
    let template = templates::find(conn, scope, plan.template_id).await?;
    let chosen: Vec<Uuid> = plan_add_on::Entity::find()
        .filter(plan_add_on::Column::PlanId.eq(plan.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.item_id)
        .collect();
    // The plan covers its version's items, and of the add-ons those chosen.
    let items = templates::items_of(conn, version.id)
        .await?
        .into_iter()
        .filter(|i| i.add_on_monthly_cents.is_none() || chosen.contains(&i.id))
        .collect();
    let pet_name = pet::Entity::find_by_id(plan.pet_id).one(conn).await?.map(|p| p.name).unwrap_or_default();
    let payments = payments_of(conn, plan.id).await?;
    let notes = notes::of_plan(conn, plan.id).await?;
    let history = crate::activity::about(conn, scope, "plan", plan.id).await?;
    let agreements = agreements_of(conn, plan.id).await?;
    let card = match plan.payment_profile_id {
        Some(id) => payment_profile::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    let attempts = payment_attempt::Entity::find()
        .filter(payment_attempt::Column::PaymentId.is_in(payments.iter().map(|p| p.id)))
        .order_by_asc(payment_attempt::Column::StartedAt)
        .all(conn)
        .await?;
    let refunds = payment_refund::Entity::find()
        .filter(payment_refund::Column::PaymentId.is_in(payments.iter().map(|p| p.id)))
        .order_by_asc(payment_refund::Column::StartedAt)
        .all(conn)
        .await?;
    Ok(PlanRecord {
        plan,
        template_code: template.code,
        version,
        items,
        pet_name,
        payments,
        notes,
        history,
        agreements,
        card,
        attempts,
        refunds,
    })
}

/// What the lists show of an agreement: all but the PDF itself.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct AgreementSummary {
    /// Its id.
    pub id: Uuid,
    /// 1 for the plan's first, then one more for each reissue.
    pub number: i32,
    /// Why it was issued.
    pub occasion: Occasion,
    /// The name it goes by (the PDF's footer).
    pub reference: String,
    /// Hex SHA-256 of the PDF.
    pub sha256: String,
    /// Who issued it.
    pub issued_by: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The name the owner typed to sign it, once they have.
    pub signed_name: Option<String>,
    /// When they signed.
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The network address the signature came from.
    pub signed_address: Option<String>,
    /// The app or browser it came from.
    pub signed_user_agent: Option<String>,
    /// The exact words agreed to.
    pub signed_statement: Option<String>,
}

/// The agreements of plan `plan_id`, oldest first.
pub(crate) async fn agreements_of(conn: &impl ConnectionTrait, plan_id: Uuid) -> DomainResult<Vec<AgreementSummary>> {
    use plan_agreement::Column;
    Ok(plan_agreement::Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::Number,
            Column::Occasion,
            Column::Reference,
            Column::Sha256,
            Column::IssuedBy,
            Column::CreatedAt,
            Column::SignedName,
            Column::SignedAt,
            Column::SignedAddress,
            Column::SignedUserAgent,
            Column::SignedStatement,
        ])
        .filter(Column::PlanId.eq(plan_id))
        .order_by_asc(Column::Number)
        .into_model::<AgreementSummary>()
        .all(conn)
        .await?)
}

/// The plan a payment of the practice belongs to.
pub async fn of_payment(platform: &Platform, scope: Scope, payment_id: Uuid) -> DomainResult<PlanRecord> {
    let payment = plan_payment::Entity::find_by_id(payment_id)
        .filter(plan_payment::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    get(platform, scope, payment.plan_id).await
}
