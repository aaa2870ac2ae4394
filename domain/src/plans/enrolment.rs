//! Enrolment (PLANS.md A2, A3): a pet joins a plan on the version its
//! template sells now, with the payment schedule it owes. The options a
//! staff member may not choose alone (waive the fee, paid in full, no
//! payment method, no electronic initial charge) each name the permission
//! they need, and the caller is checked for all of them before anything is
//! written.

use chrono::{Months, NaiveDate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        payment_profile, pet,
        plan::{self, Billing, Renewal, Status},
        plan_add_on,
        plan_agreement::Occasion,
        plan_payment::{self, PaymentKind, PaymentStatus},
        plan_template_item, plan_template_version,
    },
    households::clients,
    kernel::{caller::Authorized, permissions::Permission},
    payments::charges,
    performance::award_plan_points,
    plans::{
        agreements,
        records::{self, PlanRecord},
        templates,
    },
    practices,
};

/// How far ahead a plan may be sold to start.
pub const MAX_DAYS_AHEAD: u64 = 90;

/// What staff choose when they enrol a pet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The pet, of the client enrolling.
    pub pet_id: Uuid,
    /// The template; the plan is sold on its current version.
    pub template_id: Uuid,
    /// Monthly or paid in full.
    pub billing: Billing,
    /// The first day; today when absent, a later day makes the plan pending.
    pub starts_on: Option<NaiveDate>,
    /// What happens at the end of the term.
    pub renewal: Renewal,
    /// No enrolment fee.
    pub waive_initial_fee: bool,
    /// The client's saved card the plan charges.
    pub payment_profile_id: Option<Uuid>,
    /// No payment method on file: the payments are collected by hand.
    pub skip_payment_method: bool,
    /// The initial charge is taken at the desk, not electronically.
    pub skip_initial_charge: bool,
    /// Add-on items of the version sold, chosen for this plan.
    pub add_on_item_ids: Vec<Uuid>,
    /// A second owner named on the agreement, who signs it too.
    pub co_owner: Option<String>,
}

impl Enrolment {
    /// Every permission these choices need: adding a plan, and each gated
    /// option chosen (seed 000).
    pub fn permissions(&self) -> Vec<Permission> {
        let mut needed = vec![Permission::PlansAdd];
        let gated = [
            (self.waive_initial_fee, Permission::PlansWaiveInitialFee),
            (self.billing == Billing::PaidInFull, Permission::PlansMarkPaidInFull),
            (self.skip_payment_method, Permission::PlansSkipPaymentMethod),
            (self.skip_initial_charge, Permission::PlansSkipInitialCharge),
        ];
        needed.extend(gated.into_iter().filter(|(chosen, _)| *chosen).map(|(_, permission)| permission));
        needed
    }
}

/// A payment the schedule will hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// What it is for.
    pub kind: PaymentKind,
    /// Its day.
    pub due_on: NaiveDate,
    /// Its amount.
    pub amount_cents: i64,
}

/// What an enrolment costs: the initial charge and the schedule after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The enrolment fee charged (0 when waived).
    pub initial_fee_cents: i64,
    /// The first day.
    pub starts_on: NaiveDate,
    /// The term's last day.
    pub ends_on: NaiveDate,
    /// Every payment, the initial charge first.
    pub schedule: Vec<Due>,
}

impl Quote {
    /// The initial charge: the fee and the first instalment, or the fee and
    /// the paid-in-full price.
    pub fn initial_charge_cents(&self) -> i64 {
        self.schedule.first().map_or(0, |d| d.amount_cents)
    }

    /// What the whole term costs.
    pub fn total_cents(&self) -> i64 {
        self.schedule.iter().map(|d| d.amount_cents).sum()
    }
}

/// The enrolment fee a sale charges: none when waived, and the practice's
/// multi-pet discount off it when the household has another plan in progress.
pub fn fee_for(version: &plan_template_version::Model, waived: bool, multi_pet_discount_cents: i64) -> i64 {
    if waived { 0 } else { (version.initial_fee_cents - multi_pet_discount_cents).max(0) }
}

/// The price of `version` sold from `starts_on` with enrolment fee `fee`
/// and add-ons adding `add_ons_monthly` a month: pure arithmetic, so the
/// page can show it before anyone commits to it.
pub fn quote(
    version: &plan_template_version::Model,
    billing: Billing,
    (fee, add_ons_monthly): (i64, i64),
    starts_on: NaiveDate,
) -> DomainResult<Quote> {
    let term = u32::try_from(version.term_months).map_err(|_| DomainError::from(Code::InvalidTerm))?;
    let monthly = version.monthly_price_cents + add_ons_monthly;
    let month = |n: u32| starts_on.checked_add_months(Months::new(n)).ok_or(DomainError::from(Code::InvalidStartDate));
    let ends_on = month(term)?.pred_opt().ok_or(DomainError::from(Code::InvalidStartDate))?;
    let schedule = match billing {
        Billing::PaidInFull => vec![Due {
            kind: PaymentKind::Initial,
            due_on: starts_on,
            amount_cents: fee + version.paid_in_full_price_cents + add_ons_monthly * i64::from(term),
        }],
        Billing::Monthly => {
            let mut schedule = vec![Due { kind: PaymentKind::Initial, due_on: starts_on, amount_cents: fee + monthly }];
            for n in 1..term {
                schedule.push(Due { kind: PaymentKind::Instalment, due_on: month(n)?, amount_cents: monthly });
            }
            schedule
        }
    };
    Ok(Quote { initial_fee_cents: fee, starts_on, ends_on, schedule })
}

/// How every step on a plan ends: its activity entry by `who` (with the
/// approving manager), then the plan as the answer, committed together.
pub(crate) async fn finish(
    txn: sea_orm::DatabaseTransaction,
    platform: &Platform,
    scope: Scope,
    (who, origin): (&Authorized, &Origin),
    action: &'static str,
    plan: plan::Model,
    detail: serde_json::Value,
) -> DomainResult<PlanRecord> {
    Entry::authorized(action, who, origin).target("plan", plan.id).detail(detail).record(&txn, platform, scope).await?;
    let record = records::load(&txn, plan).await?;
    txn.commit().await?;
    Ok(record)
}

/// Writes a plan's schedule: `dues` in order, the first one collected at
/// the desk when `paid_at_desk` says when.
pub(crate) async fn insert_schedule(
    conn: &impl ConnectionTrait,
    scope: Scope,
    plan_id: Uuid,
    dues: &[Due],
    paid_at_desk: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> DomainResult<()> {
    let rows: Vec<plan_payment::ActiveModel> = dues
        .iter()
        .zip(1..)
        .map(|(due, number)| {
            let mut row = plan_payment::scheduled(
                scope.practice_id,
                plan_id,
                number,
                due.kind,
                due.due_on,
                due.amount_cents,
                now,
            );
            if let Some(at) = paid_at_desk.filter(|_| number == 1) {
                row.status = Set(PaymentStatus::PaidExternal);
                row.settled_at = Set(Some(at));
            }
            row
        })
        .collect();
    if !rows.is_empty() {
        plan_payment::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// Enrols a pet of `client_id`. `who` must hold every permission of
/// [`Enrolment::permissions`]: the API checks them, with the override, first.
pub async fn enrol(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    client_id: Uuid,
    enrolment: Enrolment,
) -> DomainResult<PlanRecord> {
    let (today, starts_on) = first_day(platform, scope, enrolment.starts_on).await?;
    let settings = practices::get(platform, scope).await?.settings;
    let points = settings.plan_points;
    let card = match (enrolment.skip_payment_method, enrolment.payment_profile_id) {
        (true, _) => None,
        (false, Some(id)) => Some(usable_card(platform, scope, client_id, id, today).await?),
        (false, None) => {
            return Err(DomainError::with(
                Code::PaymentMethodRequired,
                "choose one of the client's saved cards: enrolling without one needs a manager",
            ));
        }
    };
    let co_owner = co_owner_of(enrolment.co_owner.as_deref())?;
    let txn = platform.begin_write().await?;
    clients::get_in(&txn, scope, client_id).await?;
    let pet = pet::Entity::find_by_id(enrolment.pet_id)
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .filter(pet::Column::ClientId.eq(client_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let template = templates::find(&txn, scope, enrolment.template_id).await?;
    let sold = templates::at_version(&txn, template.clone(), template.current_version).await?;
    still_sold(&sold)?;
    fits(&pet, &sold.version, starts_on)?;
    let in_progress = plan::Entity::find()
        .filter(plan::Column::PetId.eq(pet.id))
        .filter(plan::Column::Status.is_in(Status::IN_PROGRESS))
        .one(&txn)
        .await?;
    if in_progress.is_some() {
        return Err(DomainError::with(Code::PlanInProgress, format!("{} already has a plan in progress", pet.name)));
    }
    let household_plans = other_plans_in_progress(&txn, client_id, Some(pet.id)).await?;
    let discount = if household_plans > 0 { settings.multi_pet_discount_cents } else { 0 };
    let fee = fee_for(&sold.version, enrolment.waive_initial_fee, discount);
    let add_ons = chosen_add_ons(&sold.items, &enrolment.add_on_item_ids)?;
    let add_ons_monthly: i64 = add_ons.iter().filter_map(|i| i.add_on_monthly_cents).sum();
    let quote = quote(&sold.version, enrolment.billing, (fee, add_ons_monthly), starts_on)?;
    let now = platform.clock.now();
    let plan = plan::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        pet_id: Set(pet.id),
        template_id: Set(sold.template.id),
        version_id: Set(sold.version.id),
        status: Set(if starts_on > today { Status::Pending } else { Status::Active }),
        renewal: Set(enrolment.renewal),
        billing: Set(enrolment.billing),
        starts_on: Set(quote.starts_on),
        ends_on: Set(quote.ends_on),
        initial_fee_cents: Set(quote.initial_fee_cents),
        fee_waived: Set(enrolment.waive_initial_fee),
        payment_method_skipped: Set(enrolment.skip_payment_method),
        enrolled_by_id: Set(who.actor.id),
        enrolled_by: Set(who.actor.name.clone()),
        approved_by: Set(who.approver.as_ref().map(|a| a.name.clone())),
        created_at: Set(now),
        forgiven_cents: Set(0),
        co_owner: Set(co_owner),
        payment_profile_id: Set(card.as_ref().map(|c| c.id)),
        auto_charge: Set(true),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // An initial charge taken at the desk is paid by the time the plan is.
    let at_desk = enrolment.skip_initial_charge.then_some(now);
    insert_schedule(&txn, scope, plan.id, &quote.schedule, at_desk, now).await?;
    for item in &add_ons {
        plan_add_on::ActiveModel {
            id: Set(Uuid::new_v4()),
            plan_id: Set(plan.id),
            item_id: Set(item.id),
            monthly_cents: Set(item.add_on_monthly_cents.unwrap_or(0)),
        }
        .insert(&txn)
        .await?;
    }
    if let Some(staff) = who.actor.id {
        let sold_as = format!("enrolled {} in {}", pet.name, sold.version.name);
        award_plan_points(&txn, platform, scope, staff, (points.enrolment, Some(plan.id)), &sold_as).await?;
        for item in &add_ons {
            let reason = format!("add-on {} for {}", item.description, pet.name);
            award_plan_points(&txn, platform, scope, staff, (points.add_on, Some(plan.id)), &reason).await?;
        }
        if household_plans > 0 {
            let reason = format!("multi-pet enrolment: {sold_as}");
            award_plan_points(&txn, platform, scope, staff, (points.multi_pet, Some(plan.id)), &reason).await?;
        }
    }
    let detail = serde_json::json!({
        "pet": pet.name, "template": sold.template.code, "version": sold.version.version,
        "billing": plan.billing.to_string(), "initial_charge_cents": quote.initial_charge_cents(),
        "fee_waived": enrolment.waive_initial_fee, "multi_pet_discount_cents": discount,
            "add_ons": add_ons.iter().map(|i| i.code.clone()).collect::<Vec<_>>(), "payment_method_skipped": enrolment.skip_payment_method,
        "initial_charge_skipped": enrolment.skip_initial_charge,
    });
    agreements::issue(&txn, platform, &plan, Occasion::Enrolment, &who.actor).await?;
    let record = finish(txn, platform, scope, (who, origin), "plan.enrol", plan, detail).await?;
    // The first charge is taken at enrolment (PLANS.md B1), once the plan
    // is written: a decline leaves the plan with its payment failed, as
    // any later decline would, for the card to be fixed.
    let initial =
        record.payments.first().filter(|p| card.is_some() && p.status == PaymentStatus::Scheduled && p.due_on <= today);
    match initial {
        Some(payment) => {
            if let Err(err) = charges::charge(platform, scope, payment.id, &who.actor, origin).await {
                // The plan stands; its payment stays owed, on the page.
                tracing::warn!(error = %err, plan = %record.plan.id, "the initial charge could not be made");
            }
            records::get(platform, scope, record.plan.id).await
        }
        None => Ok(record),
    }
}

/// A saved card of the client that has not expired, for a plan to charge.
async fn usable_card(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    id: Uuid,
    today: NaiveDate,
) -> DomainResult<payment_profile::Model> {
    let card = payment_profile::Entity::find_by_id(id)
        .filter(payment_profile::Column::PracticeId.eq(scope.practice_id))
        .filter(payment_profile::Column::ClientId.eq(client_id))
        .filter(payment_profile::Column::RemovedAt.is_null())
        .one(&platform.db)
        .await?
        .ok_or_else(|| DomainError::with(Code::PaymentMethodRequired, "that card is not one of this client's"))?;
    if card.expired(today) {
        return Err(DomainError::from(Code::CardExpired));
    }
    Ok(card)
}

/// The longest co-owner's name.
pub const MAX_CO_OWNER_CHARS: usize = 100;

/// A co-owner's name as the agreement shows it; blank is none.
fn co_owner_of(given: Option<&str>) -> DomainResult<Option<String>> {
    let name = given.map(str::trim).filter(|name| !name.is_empty());
    match name {
        Some(name) if name.chars().count() > MAX_CO_OWNER_CHARS || name.chars().any(char::is_control) => {
            Err(DomainError::with(Code::FieldTooLong, "a co-owner's name has at most 100 characters, on one line"))
        }
        name => Ok(name.map(str::to_owned)),
    }
}

/// The add-on items of `items` that `ids` name, each once; an id that is
/// not one of them is refused.
fn chosen_add_ons(items: &[plan_template_item::Model], ids: &[Uuid]) -> DomainResult<Vec<plan_template_item::Model>> {
    let mut chosen: Vec<plan_template_item::Model> = Vec::new();
    for id in ids {
        let Some(item) = items.iter().find(|i| i.id == *id && i.add_on_monthly_cents.is_some()) else {
            return Err(DomainError::with(Code::UnknownAddOn, "that item is not an add-on of this plan"));
        };
        if !chosen.iter().any(|c| c.id == item.id) {
            chosen.push(item.clone());
        }
    }
    Ok(chosen)
}

/// What a plan's add-ons add a month.
pub(crate) async fn add_ons_monthly(conn: &impl ConnectionTrait, plan_id: Uuid) -> DomainResult<i64> {
    let add_ons = plan_add_on::Entity::find().filter(plan_add_on::Column::PlanId.eq(plan_id)).all(conn).await?;
    Ok(add_ons.iter().map(|a| a.monthly_cents).sum())
}

/// How many plans in progress the household has, but for pet `except`'s.
async fn other_plans_in_progress(
    conn: &impl ConnectionTrait,
    client_id: Uuid,
    except: Option<Uuid>,
) -> DomainResult<u64> {
    let mut query = plan::Entity::find()
        .filter(plan::Column::ClientId.eq(client_id))
        .filter(plan::Column::Status.is_in(Status::IN_PROGRESS));
    if let Some(pet) = except {
        query = query.filter(plan::Column::PetId.ne(pet));
    }
    Ok(query.count(conn).await?)
}

/// What enrolling on template `id`'s current version would cost; with a
/// client, less the multi-pet discount their household would get.
pub async fn quote_for(
    platform: &Platform,
    scope: Scope,
    id: Uuid,
    billing: Billing,
    waive_initial_fee: bool,
    starts_on: Option<NaiveDate>,
    (client_id, add_on_item_ids): (Option<Uuid>, &[Uuid]),
) -> DomainResult<Quote> {
    let (_, starts_on) = first_day(platform, scope, starts_on).await?;
    let sold = templates::get(platform, scope, id).await?;
    still_sold(&sold)?;
    let discount = match client_id {
        Some(client_id) => {
            clients::get(platform, scope, client_id).await?;
            if other_plans_in_progress(&platform.db, client_id, None).await? > 0 {
                practices::get(platform, scope).await?.settings.multi_pet_discount_cents
            } else {
                0
            }
        }
        None => 0,
    };
    let add_ons_monthly: i64 =
        chosen_add_ons(&sold.items, add_on_item_ids)?.iter().filter_map(|i| i.add_on_monthly_cents).sum();
    let fee = fee_for(&sold.version, waive_initial_fee, discount);
    quote(&sold.version, billing, (fee, add_ons_monthly), starts_on)
}

/// Today in the practice, and the plan's first day: today, or a day up to
/// [`MAX_DAYS_AHEAD`] later.
async fn first_day(
    platform: &Platform,
    scope: Scope,
    asked: Option<NaiveDate>,
) -> DomainResult<(NaiveDate, NaiveDate)> {
    let today = practices::get(platform, scope).await?.today(platform.clock.now());
    let starts_on = asked.unwrap_or(today);
    if starts_on < today || starts_on > today + chrono::Days::new(MAX_DAYS_AHEAD) {
        return Err(DomainError::with(Code::InvalidStartDate, "a plan starts today or within the next 90 days"));
    }
    Ok((today, starts_on))
}

pub(crate) fn still_sold(sold: &templates::Template) -> DomainResult<()> {
    if sold.template.retired_at.is_some() {
        return Err(DomainError::with(Code::PlanNotSold, "this plan template is no longer sold"));
    }
    Ok(())
}

/// Whether the pet may be sold this version: its species, and its age on the first day.
pub(crate) fn fits(pet: &pet::Model, version: &plan_template_version::Model, starts_on: NaiveDate) -> DomainResult<()> {
    if pet.pms_status != pet::PmsStatus::Active {
        return Err(DomainError::with(
            Code::PlanDoesNotFit,
            format!("{} is {} in the practice's records", pet.name, pet.pms_status),
        ));
    }
    if let Some(species) = &version.species
        && pet.species.as_deref().map(normal_species).as_deref() != Some(species.as_str())
    {
        return Err(DomainError::with(
            Code::PlanDoesNotFit,
            format!(
                "{} is for the species {species}; {} is {}",
                version.name,
                pet.name,
                pet.species.as_deref().unwrap_or("of no recorded species")
            ),
        ));
    }
    let ages_matter = version.min_age_months > 0 || version.max_age_months.is_some();
    if !ages_matter {
        return Ok(());
    }
    let Some(born) = pet.date_of_birth else {
        return Err(DomainError::with(
            Code::PlanDoesNotFit,
            format!("{} has no date of birth, and {} is for an age band", pet.name, version.name),
        ));
    };
    let months = i32::try_from(starts_on.years_since(born).unwrap_or(0) * 12).unwrap_or(i32::MAX)
        + months_past_birthday(born, starts_on);
    let fits = months >= version.min_age_months && version.max_age_months.is_none_or(|max| months <= max);
    if fits {
        Ok(())
    } else {
        Err(DomainError::with(
            Code::PlanDoesNotFit,
            format!("{} is {months} months old on the first day; {} is for its age band only", pet.name, version.name),
        ))
    }
}

/// Whole months since the last birthday before `on`.
fn months_past_birthday(born: NaiveDate, on: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut months = on.month0() as i32 - born.month0() as i32;
    if on.day() < born.day() {
        months -= 1;
    }
    months.rem_euclid(12)
}

/// The PMS's word for a species in the form templates use.
fn normal_species(raw: &str) -> String {
    match raw.trim().to_lowercase().as_str() {
        "canine" | "k9" => "dog".to_owned(),
        "feline" => "cat".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(term_months: i32) -> plan_template_version::Model {
        plan_template_version::Model {
            id: Uuid::nil(),
            template_id: Uuid::nil(),
            version: 1,
            name: "Puppy".into(),
            species: Some("dog".into()),
            min_age_months: 0,
            max_age_months: Some(11),
            term_months,
            renews_into_id: None,
            monthly_price_cents: 3_999,
            paid_in_full_price_cents: 44_900,
            initial_fee_cents: 4_900,
            non_plan_discount_percent: None,
            agreement_text: "x".into(),
            created_by: "t".into(),
            created_at: chrono::Utc::now(),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_monthly_plan_owes_the_fee_with_its_first_instalment_then_one_a_month() {
        let q = quote(&version(12), Billing::Monthly, (fee_for(&version(12), false, 0), 0), day(2026, 1, 31)).unwrap();
        assert_eq!(q.initial_charge_cents(), 4_900 + 3_999);
        assert_eq!(q.schedule.len(), 12);
        assert_eq!(q.schedule[1].due_on, day(2026, 2, 28), "the 31st falls on the month's last day");
        assert_eq!(q.schedule[11].due_on, day(2026, 12, 31));
        assert_eq!(q.ends_on, day(2027, 1, 30));
        assert_eq!(q.total_cents(), 4_900 + 12 * 3_999);
    }

    #[test]
    fn add_ons_add_to_each_instalment_or_to_the_term_paid_in_full() {
        let monthly = quote(&version(12), Billing::Monthly, (4_900, 500), day(2026, 1, 1)).unwrap();
        assert_eq!((monthly.initial_charge_cents(), monthly.schedule[1].amount_cents), (4_900 + 4_499, 4_499));
        let in_full = quote(&version(12), Billing::PaidInFull, (0, 500), day(2026, 1, 1)).unwrap();
        assert_eq!(in_full.total_cents(), 44_900 + 12 * 500);
    }

    #[test]
    fn a_multi_pet_discount_comes_off_the_fee_and_never_below_nothing() {
        assert_eq!(fee_for(&version(12), false, 1_000), 3_900);
        assert_eq!(fee_for(&version(12), false, 9_000), 0);
    }

    #[test]
    fn paid_in_full_is_one_payment_and_a_waived_fee_is_nothing() {
        let q =
            quote(&version(12), Billing::PaidInFull, (fee_for(&version(12), true, 1_000), 0), day(2026, 3, 1)).unwrap();
        assert_eq!((q.schedule.len(), q.initial_charge_cents(), q.initial_fee_cents), (1, 44_900, 0));
    }

    #[test]
    fn ages_count_whole_months_on_the_first_day() {
        assert_eq!(months_past_birthday(day(2025, 11, 15), day(2026, 3, 14)), 3);
        assert_eq!(months_past_birthday(day(2025, 11, 15), day(2026, 3, 15)), 4);
        let pet = |born: NaiveDate, species: &str| pet::Model {
            id: Uuid::nil(),
            practice_id: Uuid::nil(),
            client_id: Uuid::nil(),
            pms_id: None,
            pms_updated_at: None,
            name: "Bella".into(),
            species: Some(species.into()),
            breed: None,
            sex: None,
            date_of_birth: Some(born),
            pms_status: pet::PmsStatus::Active,
            status_changed_at: None,
            removed_at: None,
            reinstated_at: None,
            added_by_owner: false,
            owner_notes: None,
            owner_inactive_at: None,
            owner_inactive_reason: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let start = day(2026, 6, 1);
        assert!(fits(&pet(day(2025, 7, 1), "Canine"), &version(12), start).is_ok(), "11 months, a canine is a dog");
        assert!(fits(&pet(day(2025, 6, 1), "Dog"), &version(12), start).is_err(), "12 months is past the band");
        assert!(fits(&pet(day(2026, 1, 1), "Cat"), &version(12), start).is_err(), "a cat on a dog plan");
    }
}
