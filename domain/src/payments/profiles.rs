//! Payment profiles (PLANS.md B4): cards a client saves with the gateway's
//! own fields. We start a SetupIntent for off-session use, the browser
//! confirms it with the gateway, and we read back and keep its ids, brand,
//! last four and expiry.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::Expr};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        payment_profile, plan,
        plan_payment::{self, PaymentStatus},
    },
    households::clients,
    kernel::caller::Authorized,
    payments::charges::{self, Charged},
    ports::payments::{CardFields, SetupStatus},
    practices,
};

/// A card being saved: what the browser's card fields need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSetup {
    /// The SetupIntent (`seti_…`) to hand back once the card is confirmed.
    pub setup_intent: String,
    /// Lets the browser confirm this one setup.
    pub client_secret: String,
    /// The gateway's script and key.
    pub fields: CardFields,
}

/// A saved card and what saving it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The card.
    pub profile: payment_profile::Model,
    /// The plans that now charge it.
    pub plans: Vec<Uuid>,
    /// What trying the payments owed again came to.
    pub retried: Vec<Charged>,
}

/// The metadata that ties a setup to one client of one practice, so a
/// setup started for someone else is never saved here.
fn setup_owner(scope: Scope, client_id: Uuid) -> String {
    format!("{}/{}", scope.practice_id, client_id)
}

/// Starts saving a card for `client_id`.
pub async fn begin(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<CardSetup> {
    let client = clients::get(platform, scope, client_id).await?;
    let fields = platform.payments.card_fields().ok_or(DomainError::from(Code::PaymentsNotConfigured))?;
    let known = payment_profile::Entity::find()
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::ClientId.eq(client_id))
        .one(&platform.db)
        .await?;
    let customer = match known {
        Some(profile) => profile.customer_ref,
        None => {
            let name = format!("{} {}", client.first_name, client.last_name);
            platform.payments.create_customer(name.trim(), client.email.as_deref()).await?
        }
    };
    let intent = platform.payments.create_setup_intent(&customer, &setup_owner(scope, client_id)).await?;
    Ok(CardSetup { setup_intent: intent.id, client_secret: intent.client_secret, fields })
}

/// Whether `id` reads as a gateway id (`seti_…`, `pm_…`): letters, digits
/// and `_`, so it can go into a URL path as it is.
fn gateway_id(id: &str, prefix: &str) -> bool {
    id.len() <= 255 && id.starts_with(prefix) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Which of the client's plans in progress a newly saved card takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakesOver {
    /// Those with no usable card, or owing a declined payment (staff adding a card).
    PlansWanting,
    /// All of them (the owner replacing their card in the app).
    AllPlans,
}

/// Saves the card the browser confirmed on `setup_intent`. The plans it
/// `takes_over` charge it from now on, and what they owe is tried on it at once.
pub async fn save(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    (client_id, setup_intent): (Uuid, &str),
    takes_over: TakesOver,
) -> DomainResult<Saved> {
    clients::get(platform, scope, client_id).await?;
    if !gateway_id(setup_intent, "seti_") {
        return Err(DomainError::with(Code::CardNotSaved, "that is not a card setup of this gateway"));
    }
    let intent = platform.payments.setup_intent(setup_intent).await?;
    if intent.owner.as_deref() != Some(setup_owner(scope, client_id).as_str()) {
        return Err(DomainError::NotFound);
    }
    let (SetupStatus::Succeeded, Some(method), Some(customer)) =
        (intent.status, intent.payment_method, intent.customer)
    else {
        return Err(DomainError::from(Code::CardNotSaved));
    };
    let card = platform.payments.card(&method).await?;
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let today = practice.today(now);
    let txn = platform.begin_write().await?;
    let existing = payment_profile::Entity::find()
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::MethodRef.eq(&method))
        .one(&txn)
        .await?;
    let profile = match existing {
        Some(profile) if profile.client_id == client_id => profile,
        Some(_) => return Err(DomainError::NotFound),
        None => {
            payment_profile::ActiveModel {
                id: Set(Uuid::new_v4()),
                practice_id: Set(scope.practice_id),
                client_id: Set(client_id),
                customer_ref: Set(customer),
                method_ref: Set(method),
                brand: Set(card.brand),
                last4: Set(card.last4),
                exp_month: Set(card.exp_month),
                exp_year: Set(card.exp_year),
                added_by: Set(who.actor.name.clone()),
                created_at: Set(now),
                removed_at: Set(None),
            }
            .insert(&txn)
            .await?
        }
    };
    if profile.expired(today) {
        return Err(DomainError::from(Code::CardExpired));
    }
    let plans = plans_taken_over(&txn, scope, (client_id, profile.id), takes_over, today).await?;
    for id in &plans {
        plan::Entity::update_many()
            .col_expr(plan::Column::PaymentProfileId, Expr::value(profile.id))
            .filter(plan::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    let owed = plan_payment::Entity::find()
        .filter(plan_payment::Column::PlanId.is_in(plans.clone()))
        .filter(plan_payment::Column::Status.is_in([PaymentStatus::Failed, PaymentStatus::PastDue]))
        .filter(plan_payment::Column::DueOn.lte(today))
        .order_by_asc(plan_payment::Column::DueOn)
        .all(&txn)
        .await?;
    Entry::authorized("payment_profile.add", who, origin)
        .target("client", client_id)
        .detail(serde_json::json!({
            "profile": profile.id, "brand": profile.brand, "last4": profile.last4,
            "expires": format!("{:02}/{}", profile.exp_month, profile.exp_year), "plans": plans,
        }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    // A new card retries what is past due (PLANS.md B6).
    let mut retried = Vec::with_capacity(owed.len());
    for payment in owed {
        retried.push(charges::charge(platform, scope, payment.id, &who.actor, origin).await?);
    }
    Ok(Saved { profile, plans, retried })
}

/// The client's plans in progress that should charge `profile_id` from now:
/// all of them, or those without a card, with one removed or expired, or
/// owing a declined payment.
async fn plans_taken_over(
    txn: &sea_orm::DatabaseTransaction,
    scope: Scope,
    (client_id, profile_id): (Uuid, Uuid),
    takes_over: TakesOver,
    today: chrono::NaiveDate,
) -> DomainResult<Vec<Uuid>> {
    let plans = plan::Entity::find()
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .filter(plan::Column::ClientId.eq(client_id))
        .filter(plan::Column::Status.is_in(plan::Status::IN_PROGRESS))
        .all(txn)
        .await?;
    let mut wanting = Vec::new();
    for plan in plans {
        if plan.payment_profile_id == Some(profile_id) {
            continue;
        }
        if takes_over == TakesOver::AllPlans {
            wanting.push(plan.id);
            continue;
        }
        let card = match plan.payment_profile_id {
            Some(id) => payment_profile::Entity::find_by_id(id).one(txn).await?,
            None => None,
        };
        let usable = card.is_some_and(|c| c.removed_at.is_none() && !c.expired(today));
        let declined = plan.status == plan::Status::PastDue;
        if !usable || declined {
            wanting.push(plan.id);
        }
    }
    Ok(wanting)
}

/// A client's saved cards, newest first.
pub async fn list(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Vec<payment_profile::Model>> {
    clients::get(platform, scope, client_id).await?;
    Ok(payment_profile::Entity::find()
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::ClientId.eq(client_id))
        .filter(payment_profile::Column::RemovedAt.is_null())
        .order_by_desc(payment_profile::Column::CreatedAt)
        .all(&platform.db)
        .await?)
}

/// One saved card of the practice, or not found.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<payment_profile::Model> {
    payment_profile::Entity::find_by_id(id)
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::RemovedAt.is_null())
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Deletes a saved card: the gateway forgets it first, then the plans that
/// charged it have no card until another is chosen.
pub async fn remove(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
) -> DomainResult<()> {
    let profile = get(platform, scope, id).await?;
    platform.payments.detach(&profile.method_ref).await?;
    let txn = platform.begin_write().await?;
    let mut removed: payment_profile::ActiveModel = profile.clone().into();
    removed.removed_at = Set(Some(platform.clock.now()));
    removed.update(&txn).await?;
    plan::Entity::update_many()
        .col_expr(plan::Column::PaymentProfileId, Expr::value(Option::<Uuid>::None))
        .filter(plan::Column::PaymentProfileId.eq(profile.id))
        .exec(&txn)
        .await?;
    Entry::authorized("payment_profile.remove", who, origin)
        .target("client", profile.client_id)
        .detail(serde_json::json!({ "profile": profile.id, "brand": profile.brand, "last4": profile.last4 }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Chooses the card a plan charges (`None`: no card, payments collected by hand).
pub async fn choose_for_plan(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    plan_id: Uuid,
    profile_id: Uuid,
) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    let plan = super::plan_in(&txn, scope, plan_id).await?;
    let profile = payment_profile::Entity::find_by_id(profile_id)
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::ClientId.eq(plan.client_id))
        .filter(payment_profile::Column::RemovedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::with(Code::PaymentMethodRequired, "that card is not one of this client's"))?;
    let mut changed: plan::ActiveModel = plan.clone().into();
    changed.payment_profile_id = Set(Some(profile.id));
    changed.update(&txn).await?;
    Entry::authorized("plan.payment_method", who, origin)
        .target("plan", plan.id)
        .detail(serde_json::json!({ "profile": profile.id, "brand": profile.brand, "last4": profile.last4 }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(())
}
