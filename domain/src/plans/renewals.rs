//! Renewals and the days that move a plan along (PLANS.md A4–A6). A timed
//! job starts pending plans on their first day, completes plans whose term
//! ended, prepares each automatic renewal the practice's number of days
//! before the end (unless a safeguard blocks it), and tells owners of
//! year-long plans before theirs renews. Managers renew by hand, configure
//! a renewal until it has a payment, and start one early, which completes
//! the plan it renews.
//!
//! A renewal is a plan of its own, pending until the day after the term it
//! renews, sold on the current version of the template the old one renews
//! into, without an enrolment fee.

use chrono::{Days, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        client, pet,
        plan::{self, Billing, Renewal, Status},
        plan_agreement::Occasion,
        plan_payment::{self, PaymentStatus},
        plan_template_version, practice,
    },
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{caller::Authorized, practice::Practice, text::dollars},
    plans::{
        agreements, enrolment,
        records::{self, PlanRecord},
        templates,
    },
    practices,
};

/// What one run of the job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RenewalRun {
    /// Pending plans that reached their first day.
    pub activated: u32,
    /// Plans whose term ended.
    pub completed: u32,
    /// Renewals prepared.
    pub prepared: u32,
    /// Automatic renewals a safeguard blocked.
    pub blocked: u32,
    /// Owners told of a coming renewal.
    pub noticed: u32,
}

/// What a renewal is sold as; absent fields take the renewed plan's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalTerms {
    /// The template (default: the one the plan renews into, or its own).
    pub template_id: Option<Uuid>,
    /// Monthly or paid in full: the one moment billing may change.
    pub billing: Option<Billing>,
}

/// Runs the renewal job for every practice, on its own calendar.
pub async fn run_due(platform: &Platform) -> DomainResult<RenewalRun> {
    let mut run = RenewalRun::default();
    for row in practice::Entity::find().all(&platform.db).await? {
        let practice = practices::get(platform, Scope { practice_id: row.id }).await?;
        run_practice(platform, &practice, &mut run).await?;
    }
    Ok(run)
}

async fn run_practice(platform: &Platform, practice: &Practice, run: &mut RenewalRun) -> DomainResult<()> {
    let scope = Scope { practice_id: practice.id };
    let now = platform.clock.now();
    let today = practice.today(now);
    let system = Actor::system("renewals");
    let origin = Origin::default();
    let of_practice = || plan::Entity::find().filter(plan::Column::PracticeId.eq(practice.id));

    for due in of_practice()
        .filter(plan::Column::Status.eq(Status::Pending))
        .filter(plan::Column::StartsOn.lte(today))
        .all(&platform.db)
        .await?
    {
        let txn = platform.begin_write().await?;
        if moved(&txn, due.id, &[Status::Pending], Status::Active).await? {
            Entry::new("plan.activate", &system, &origin)
                .target("plan", due.id)
                .detail(serde_json::json!({ "starts_on": due.starts_on }))
                .record(&txn, platform, scope)
                .await?;
            run.activated += 1;
        }
        txn.commit().await?;
    }

    for ended in of_practice()
        .filter(plan::Column::Status.is_in([Status::Active, Status::PastDue]))
        .filter(plan::Column::EndsOn.lt(today))
        .all(&platform.db)
        .await?
    {
        let txn = platform.begin_write().await?;
        if moved(&txn, ended.id, &[Status::Active, Status::PastDue], Status::Completed).await? {
            Entry::new("plan.complete", &system, &origin)
                .target("plan", ended.id)
                .detail(serde_json::json!({ "ends_on": ended.ends_on }))
                .record(&txn, platform, scope)
                .await?;
            run.completed += 1;
        }
        txn.commit().await?;
    }

    let horizon = today + Days::new(u64::try_from(practice.settings.renewals.prepare_days_before).unwrap_or(0));
    for old in of_practice()
        .filter(plan::Column::Status.is_in([Status::Active, Status::PastDue]))
        .filter(plan::Column::Renewal.eq(Renewal::Auto))
        .filter(plan::Column::RenewalBlocked.is_null())
        .filter(plan::Column::EndsOn.lte(horizon))
        // Not the plans renewed already (the check under the lock below settles races).
        .filter(
            plan::Column::Id.not_in_subquery(
                Query::select()
                    .column(plan::Column::RenewsPlanId)
                    .from(plan::Entity)
                    .and_where(plan::Column::RenewsPlanId.is_not_null())
                    .and_where(plan::Column::Status.ne(Status::Cancelled))
                    .to_owned(),
            ),
        )
        .all(&platform.db)
        .await?
    {
        let txn = platform.begin_write().await?;
        if has_renewal(&txn, old.id).await? {
            continue;
        }
        let payments = records::payments_of(&txn, old.id).await?;
        let safeguard = blocked_by(practice, &payments);
        let prepared = match safeguard {
            Some(why) => Err(why),
            None => {
                let who = (&system, None);
                match prepare(&txn, platform, scope, who, &origin, &old, RenewalTerms::default(), today).await {
                    Ok(_) => Ok(()),
                    // A renewal that cannot be sold (retired, the pet grew out
                    // of it) is blocked for a manager to configure.
                    Err(DomainError::Failed(code @ (Code::PlanNotSold | Code::PlanDoesNotFit), detail)) => {
                        Err(detail.unwrap_or_else(|| code.message().to_owned()))
                    }
                    Err(other) => return Err(other),
                }
            }
        };
        match prepared {
            Ok(()) => run.prepared += 1,
            Err(why) => {
                plan::Entity::update_many()
                    .col_expr(plan::Column::RenewalBlocked, Expr::value(why.clone()))
                    .filter(plan::Column::Id.eq(old.id))
                    .exec(&txn)
                    .await?;
                Entry::new("plan.renewal_blocked", &system, &origin)
                    .target("plan", old.id)
                    .detail(serde_json::json!({ "why": why }))
                    .record(&txn, platform, scope)
                    .await?;
                run.blocked += 1;
            }
        }
        txn.commit().await?;
    }

    let notice_by = today + Days::new(u64::try_from(practice.settings.renewals.notice_days_before).unwrap_or(0));
    for renewal in of_practice()
        .filter(plan::Column::Status.eq(Status::Pending))
        .filter(plan::Column::RenewsPlanId.is_not_null())
        .filter(plan::Column::RenewalNoticeAt.is_null())
        .filter(plan::Column::StartsOn.lte(notice_by))
        .all(&platform.db)
        .await?
    {
        let txn = platform.begin_write().await?;
        let told = notify_owner(&txn, platform, practice, &renewal).await?;
        plan::Entity::update_many()
            .col_expr(plan::Column::RenewalNoticeAt, Expr::value(now))
            .filter(plan::Column::Id.eq(renewal.id))
            .exec(&txn)
            .await?;
        if let Some(told) = told {
            Entry::new("plan.renewal_notice", &system, &origin)
                .target("plan", renewal.id)
                .detail(told)
                .record(&txn, platform, scope)
                .await?;
            run.noticed += 1;
        }
        txn.commit().await?;
    }
    Ok(())
}

/// Moves plan `id` from one of `from` to `to`; false when another worker did first.
async fn moved(conn: &impl ConnectionTrait, id: Uuid, from: &[Status], to: Status) -> DomainResult<bool> {
    let done = plan::Entity::update_many()
        .col_expr(plan::Column::Status, Expr::value(to))
        .filter(plan::Column::Id.eq(id))
        .filter(plan::Column::Status.is_in(from.iter().copied()))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Why the practice's safeguards stop this plan renewing by itself.
fn blocked_by(practice: &Practice, payments: &[plan_payment::Model]) -> Option<String> {
    let rules = practice.settings.renewals;
    let failed: Vec<&plan_payment::Model> =
        payments.iter().filter(|p| matches!(p.status, PaymentStatus::Failed | PaymentStatus::PastDue)).collect();
    let limit = usize::try_from(rules.block_after_failed_payments).unwrap_or(0);
    if limit > 0 && failed.len() >= limit {
        return Some(format!("{} failed payments (the practice renews after fewer than {limit})", failed.len()));
    }
    if rules.block_with_balance_due && !failed.is_empty() {
        let due: i64 = failed.iter().map(|p| p.amount_cents).sum();
        return Some(format!("a balance of {due} cents is due"));
    }
    None
}

/// Tells the owner of a year-long plan that it renews: the day, the price,
/// and how to stop it. `None` when the plan is shorter (no notice is owed).
async fn notify_owner(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    renewal: &plan::Model,
) -> DomainResult<Option<serde_json::Value>> {
    let version =
        plan_template_version::Entity::find_by_id(renewal.version_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    if version.term_months < 12 {
        return Ok(None);
    }
    let household = client::Entity::find_by_id(renewal.client_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let pet_name = pet::Entity::find_by_id(renewal.pet_id).one(conn).await?.map(|p| p.name).unwrap_or_default();
    let payments = records::payments_of(conn, renewal.id).await?;
    let total: i64 = payments.iter().map(|p| p.amount_cents).sum();
    let price = match renewal.billing {
        Billing::Monthly => format!(
            "{} a month for {} months ({} in all)",
            dollars(version.monthly_price_cents),
            version.term_months,
            dollars(total)
        ),
        Billing::PaidInFull => format!("{}, paid in full", dollars(total)),
    };
    let stop_by = renewal.starts_on.pred_opt().unwrap_or(renewal.starts_on);
    let body = format!(
        "Hello {},\n\n{pet_name}'s wellness plan renews on {} as {}: {price}. The card on file is charged on each payment's day.\n\n\
         Not what you want? Choose \"Do not renew\" under Plans in the {} app, reply to this email or call us by {stop_by}, \
         and it will not renew; nothing is charged.\n",
        if household.first_name.is_empty() { "there" } else { &household.first_name },
        renewal.starts_on,
        version.name,
        practice.name,
    );
    let channel = match household.email.clone() {
        Some(email) => {
            let new = NewDelivery {
                channel: Channel::Email,
                recipient: email,
                subject: Some(format!("{pet_name}'s wellness plan renews on {}", renewal.starts_on)),
                body,
                data: serde_json::json!({ "template": "plan_renewal" }),
                reason: "plan renewal notice".to_owned(),
                // Owed by law whatever the marketing preferences say.
                purpose: Purpose::Account,
                client_id: Some(household.id),
                not_before: None,
                sealed: None,
            };
            outbox::enqueue(conn, platform, Scope { practice_id: practice.id }, new).await?;
            "email"
        }
        None => "none (no email address on file)",
    };
    Ok(Some(serde_json::json!({ "channel": channel, "total_cents": total, "starts_on": renewal.starts_on })))
}

/// Prepares the renewal of `old` now, by hand (a manager). The practice's
/// safeguards hold back the automatic renewals only: a manager who renews
/// has looked.
pub async fn renew(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    terms: RenewalTerms,
) -> DomainResult<PlanRecord> {
    let today = practices::get(platform, scope).await?.today(platform.clock.now());
    let txn = platform.begin_write().await?;
    let old = records::find(&txn, scope, id).await?;
    if !matches!(old.status, Status::Active | Status::PastDue | Status::OnHold | Status::Pending) {
        return Err(DomainError::from(Code::PlanEnded));
    }
    if has_renewal(&txn, old.id).await? {
        return Err(DomainError::from(Code::RenewalExists));
    }
    let made = prepare(&txn, platform, scope, (&who.actor, who.approver.as_ref()), origin, &old, terms, today).await?;
    let record = records::load(&txn, made).await?;
    txn.commit().await?;
    Ok(record)
}

/// Changes what a plan renews as: its renewal mode, and for a renewal not
/// yet paid anything, the template and billing it is sold on.
pub async fn configure(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    mode: Option<Renewal>,
    terms: RenewalTerms,
) -> DomainResult<PlanRecord> {
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let mut plan = records::find(&txn, scope, id).await?;
    if matches!(plan.status, Status::Cancelled | Status::Completed) {
        return Err(DomainError::from(Code::PlanEnded));
    }
    if let Some(mode) = mode {
        let mut changed: plan::ActiveModel = plan.clone().into();
        changed.renewal = Set(mode);
        // A manager looked at it: the job may try again.
        changed.renewal_blocked = Set(None);
        plan = changed.update(&txn).await?;
    }
    if terms != RenewalTerms::default() {
        let (Status::Pending, Some(_)) = (plan.status, plan.renews_plan_id) else {
            return Err(DomainError::with(Code::NotARenewal, "only a renewal not yet started is configured"));
        };
        let payments = records::payments_of(&txn, plan.id).await?;
        if payments.iter().any(|p| p.collected_cents() > 0) {
            return Err(DomainError::from(Code::RenewalHasPayment));
        }
        let template_id = terms.template_id.unwrap_or(plan.template_id);
        let template = templates::find(&txn, scope, template_id).await?;
        let sold = templates::at_version(&txn, template.clone(), template.current_version).await?;
        enrolment::still_sold(&sold)?;
        let pet = pet::Entity::find_by_id(plan.pet_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
        enrolment::fits(&pet, &sold.version, plan.starts_on)?;
        let billing = terms.billing.unwrap_or(plan.billing);
        let today = practices::get(platform, scope).await?.today(now);
        let schedule = schedule_for(&sold.version, billing, plan.starts_on, today)?;
        plan_payment::Entity::delete_many().filter(plan_payment::Column::PlanId.eq(plan.id)).exec(&txn).await?;
        enrolment::insert_schedule(&txn, scope, plan.id, &schedule.schedule, None, now).await?;
        let mut changed: plan::ActiveModel = plan.into();
        changed.template_id = Set(sold.template.id);
        changed.version_id = Set(sold.version.id);
        changed.billing = Set(billing);
        changed.ends_on = Set(schedule.ends_on);
        plan = changed.update(&txn).await?;
        // What the owner will pay changed: they are issued the new terms.
        agreements::issue(&txn, platform, &plan, Occasion::Change, &who.actor).await?;
    }
    let detail = serde_json::json!({
        "renewal": plan.renewal.to_string(), "billing": plan.billing.to_string(), "version": plan.version_id,
    });
    enrolment::finish(txn, platform, scope, (who, origin), "plan.renewal_configure", plan, detail).await
}

/// Starts a pending plan today. A renewal started early completes the plan
/// it renews; a schedule nothing was paid on yet starts today too.
pub async fn activate(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
) -> DomainResult<PlanRecord> {
    let now = platform.clock.now();
    let today = practices::get(platform, scope).await?.today(now);
    let txn = platform.begin_write().await?;
    let plan = records::find(&txn, scope, id).await?;
    if plan.status != Status::Pending {
        return Err(DomainError::with(Code::NotPending, "only a plan that has not started is started early"));
    }
    let payments = records::payments_of(&txn, plan.id).await?;
    let version =
        plan_template_version::Entity::find_by_id(plan.version_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let mut ends_on = plan.ends_on;
    if payments.iter().all(|p| p.collected_cents() == 0) {
        let schedule = if plan.renews_plan_id.is_some() {
            schedule_for(&version, plan.billing, today, today)?
        } else {
            let add_ons = enrolment::add_ons_monthly(&txn, plan.id).await?;
            enrolment::quote(&version, plan.billing, (plan.initial_fee_cents, add_ons), today)?
        };
        plan_payment::Entity::delete_many().filter(plan_payment::Column::PlanId.eq(plan.id)).exec(&txn).await?;
        enrolment::insert_schedule(&txn, scope, plan.id, &schedule.schedule, None, now).await?;
        ends_on = schedule.ends_on;
    }
    if let Some(old) = plan.renews_plan_id {
        // Early renewal completes the current plan.
        if moved(&txn, old, &[Status::Active, Status::PastDue, Status::OnHold], Status::Completed).await? {
            Entry::authorized("plan.complete", who, origin)
                .target("plan", old)
                .detail(serde_json::json!({ "renewed_early_by": plan.id }))
                .record(&txn, platform, scope)
                .await?;
        }
    }
    let mut started: plan::ActiveModel = plan.into();
    started.status = Set(Status::Active);
    started.starts_on = Set(today);
    started.ends_on = Set(ends_on);
    let plan = started.update(&txn).await?;
    // The term (and perhaps the schedule) moved: the agreement says so.
    agreements::issue(&txn, platform, &plan, Occasion::Change, &who.actor).await?;
    enrolment::finish(
        txn,
        platform,
        scope,
        (who, origin),
        "plan.activate",
        plan,
        serde_json::json!({ "starts_on": today, "early": true }),
    )
    .await
}

/// The owner stops a plan of their household renewing (the consent the
/// renewal notice asks for): the plan is set not to renew, and a renewal
/// already prepared but not started is cancelled with nothing owed.
/// `id` may name either plan.
pub async fn stop_by_owner(platform: &Platform, scope: Scope, household: Uuid, id: Uuid) -> DomainResult<PlanRecord> {
    let now = platform.clock.now();
    let owner = Actor::owner_in_app();
    let origin = Origin::default();
    let txn = platform.begin_write().await?;
    let asked = records::find(&txn, scope, id).await?;
    if asked.client_id != household {
        return Err(DomainError::NotFound);
    }
    // The running plan, and its renewal if one is prepared.
    let (running, renewal) = match asked.renews_plan_id {
        Some(old) if asked.status == Status::Pending => (records::find(&txn, scope, old).await?, Some(asked)),
        _ => {
            let renewal = plan::Entity::find()
                .filter(plan::Column::RenewsPlanId.eq(asked.id))
                .filter(plan::Column::Status.eq(Status::Pending))
                .one(&txn)
                .await?;
            (asked, renewal)
        }
    };
    if matches!(running.status, Status::Cancelled | Status::Completed) && renewal.is_none() {
        return Err(DomainError::from(Code::PlanEnded));
    }
    if let Some(renewal) = &renewal {
        for payment in records::payments_of(&txn, renewal.id).await?.iter().filter(|p| p.unpaid()) {
            let mut cancelled: plan_payment::ActiveModel = payment.clone().into();
            cancelled.status = Set(PaymentStatus::Cancelled);
            cancelled.settled_at = Set(Some(now));
            cancelled.update(&txn).await?;
        }
        let mut declined: plan::ActiveModel = renewal.clone().into();
        declined.status = Set(Status::Cancelled);
        declined.cancelled_at = Set(Some(now));
        declined.cancel_reason = Set(Some("the owner declined the renewal".to_owned()));
        declined.update(&txn).await?;
        Entry::new("plan.renewal_declined", &owner, &origin)
            .target("plan", renewal.id)
            .record(&txn, platform, scope)
            .await?;
    }
    let mut running: plan::ActiveModel = running.into();
    running.renewal = Set(Renewal::DoNotRenew);
    let running = running.update(&txn).await?;
    let detail = serde_json::json!({ "renewal": "do_not_renew", "declined": renewal.map(|r| r.id) });
    let by_owner = Authorized { actor: owner, approver: None };
    enrolment::finish(txn, platform, scope, (&by_owner, &origin), "plan.renewal_stopped", running, detail).await
}

/// A renewal's schedule: no enrolment fee; [beyond] paid in full is charged
/// at once rather than on the first day, so a declined card is known while
/// the current term still runs.
fn schedule_for(
    version: &plan_template_version::Model,
    billing: Billing,
    starts_on: NaiveDate,
    today: NaiveDate,
) -> DomainResult<enrolment::Quote> {
    // Add-ons are items of the version they were sold with: a renewal is sold without them.
    let mut quote = enrolment::quote(version, billing, (0, 0), starts_on)?;
    if billing == Billing::PaidInFull
        && let Some(first) = quote.schedule.first_mut()
    {
        first.due_on = today.min(starts_on);
    }
    Ok(quote)
}

#[allow(clippy::too_many_arguments, reason = "the job's and a manager's renewal share it")]
async fn prepare(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    (actor, approver): (&Actor, Option<&Actor>),
    origin: &Origin,
    old: &plan::Model,
    terms: RenewalTerms,
    today: NaiveDate,
) -> DomainResult<plan::Model> {
    let old_version =
        plan_template_version::Entity::find_by_id(old.version_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let template_id = terms.template_id.or(old_version.renews_into_id).unwrap_or(old.template_id);
    let template = templates::find(conn, scope, template_id).await?;
    let sold = templates::at_version(conn, template.clone(), template.current_version).await?;
    enrolment::still_sold(&sold)?;
    let starts_on = old.ends_on.succ_opt().ok_or(DomainError::from(Code::InvalidStartDate))?;
    let pet = pet::Entity::find_by_id(old.pet_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    enrolment::fits(&pet, &sold.version, starts_on)?;
    let billing = terms.billing.unwrap_or(old.billing);
    let schedule = schedule_for(&sold.version, billing, starts_on, today)?;
    let now = platform.clock.now();
    let renewal = plan::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(old.client_id),
        pet_id: Set(old.pet_id),
        template_id: Set(sold.template.id),
        version_id: Set(sold.version.id),
        status: Set(Status::Pending),
        renewal: Set(old.renewal),
        billing: Set(billing),
        starts_on: Set(starts_on),
        ends_on: Set(schedule.ends_on),
        initial_fee_cents: Set(0),
        fee_waived: Set(false),
        payment_method_skipped: Set(old.payment_method_skipped),
        enrolled_by_id: Set(actor.id),
        enrolled_by: Set(actor.name.clone()),
        approved_by: Set(approver.map(|a| a.name.clone())),
        created_at: Set(now),
        forgiven_cents: Set(0),
        renews_plan_id: Set(Some(old.id)),
        co_owner: Set(old.co_owner.clone()),
        // The renewal charges the card the plan did.
        payment_profile_id: Set(old.payment_profile_id),
        auto_charge: Set(old.auto_charge),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    enrolment::insert_schedule(conn, scope, renewal.id, &schedule.schedule, None, now).await?;
    agreements::issue(conn, platform, &renewal, Occasion::Renewal, actor).await?;
    let detail = serde_json::json!({
        "renewal": renewal.id, "renews": old.id, "template": sold.template.code, "version": sold.version.version,
        "name": sold.version.name, "billing": billing.to_string(), "starts_on": starts_on,
        "total_cents": schedule.total_cents(),
    });
    Entry::new("plan.renewal_prepared", actor, origin)
        .approved_by(approver)
        .target("plan", old.id)
        .detail(detail.clone())
        .record(conn, platform, scope)
        .await?;
    Entry::new("plan.renew", actor, origin)
        .approved_by(approver)
        .target("plan", renewal.id)
        .detail(detail)
        .record(conn, platform, scope)
        .await?;
    Ok(renewal)
}

/// Whether plan `id` has a renewal that still stands (a declined one does
/// not count). The plan's row is locked first, so two workers (or a worker
/// and a manager) cannot both find none and both renew it.
async fn has_renewal(conn: &impl ConnectionTrait, id: Uuid) -> DomainResult<bool> {
    plan::Entity::update_many()
        .col_expr(plan::Column::Renewal, Expr::col(plan::Column::Renewal))
        .filter(plan::Column::Id.eq(id))
        .exec(conn)
        .await?;
    let standing = plan::Entity::find()
        .filter(plan::Column::RenewsPlanId.eq(id))
        .filter(plan::Column::Status.ne(Status::Cancelled))
        .count(conn)
        .await?;
    Ok(standing > 0)
}
