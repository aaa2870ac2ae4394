//! The staff's daily digest of payment trouble (PLANS.md B6): each
//! morning, the practice's managers and administrators get one email of
//! what went wrong since the last one: charges declined, charges waiting
//! for the owner's bank, payments whose retries are used up, and refunds
//! that failed. A quiet day sends nothing.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::{
    DomainResult, Platform, Scope,
    db::entities::{
        client,
        payment_attempt::{self, AttemptStatus},
        payment_digest, payment_refund, pet, plan, plan_payment, practice, staff_user,
    },
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{permissions::SecurityLevel, practice::Practice, text::dollars},
    practices,
};

/// The practice's local hour from which the day's digest goes out.
const SENT_FROM_HOUR: u32 = 7;

/// Sends the digest of every practice whose morning it is and that has not
/// had today's; answers how many were sent.
pub async fn run_due(platform: &Platform) -> DomainResult<u32> {
    let now = platform.clock.now();
    let mut sent = 0;
    for row in practice::Entity::find().all(&platform.db).await? {
        let practice = practices::get(platform, Scope { practice_id: row.id }).await?;
        let local = now.with_timezone(&practice.time_zone);
        if local.time() < NaiveTime::from_hms_opt(SENT_FROM_HOUR, 0, 0).unwrap_or_default() {
            continue;
        }
        if send(platform, &practice, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Claims today's digest of `practice` and queues it if there is anything
/// to say; `false` when another worker had it or the day was quiet.
async fn send(platform: &Platform, practice: &Practice, now: DateTime<Utc>) -> DomainResult<bool> {
    let today = practice.today(now);
    let previous = payment_digest::Entity::find()
        .filter(payment_digest::Column::PracticeId.eq(practice.id))
        .order_by_desc(payment_digest::Column::Day)
        .one(&platform.db)
        .await?;
    if previous.as_ref().is_some_and(|p| p.day >= today) {
        return Ok(false);
    }
    let since = previous.map_or(now - Duration::days(1), |p| p.sent_at);
    let txn = platform.begin_write().await?;
    let claimed = payment_digest::ActiveModel { practice_id: Set(practice.id), day: Set(today), sent_at: Set(now) }
        .insert(&txn)
        .await;
    if claimed.is_err() {
        // Another worker sent it first.
        return Ok(false);
    }
    let lines = trouble(&txn, platform, practice.id, since).await?;
    if lines.is_empty() {
        txn.commit().await?;
        return Ok(false);
    }
    let recipients = staff_user::Entity::find()
        .filter(staff_user::Column::PracticeId.eq(practice.id))
        .filter(staff_user::Column::DeletedAt.is_null())
        .filter(staff_user::Column::Email.is_not_null())
        .all(&txn)
        .await?
        .into_iter()
        .filter(|s| SecurityLevel::parse(&s.level).is_ok_and(|level| level >= SecurityLevel::Manager))
        .filter_map(|s| s.email);
    let subject = format!("{}: {} payment{} need attention", practice.name, lines.len(), plural(lines.len()));
    let body = format!(
        "Since the last digest:\n\n{}\n\nEach line opens the client's page, where the plan's payments are.\n",
        lines.join("\n")
    );
    for email in recipients {
        let new = NewDelivery {
            channel: Channel::Email,
            recipient: email,
            subject: Some(subject.clone()),
            body: body.clone(),
            data: serde_json::json!({ "template": "payment_digest", "day": today }),
            reason: "daily payments digest".to_owned(),
            // Staff mail about the practice's own accounts.
            purpose: Purpose::Account,
            client_id: None,
            not_before: None,
            sealed: None,
        };
        outbox::enqueue(&txn, platform, Scope { practice_id: practice.id }, new).await?;
    }
    txn.commit().await?;
    Ok(true)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One line for each payment in trouble since `since`, worst first.
async fn trouble(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice_id: Uuid,
    since: DateTime<Utc>,
) -> DomainResult<Vec<String>> {
    let mut lines = Vec::new();
    let ended = plan_payment::Entity::find()
        .filter(plan_payment::Column::PracticeId.eq(practice_id))
        .filter(plan_payment::Column::RetriesEndedAt.gt(since))
        .all(conn)
        .await?;
    for payment in &ended {
        let policy = payment.final_failure.map_or_else(String::new, |p| format!("; policy applied: {p}"));
        let what = format!("retries used up, not paid{policy}");
        lines.push(line(conn, platform, payment, &what).await?);
    }
    let attempts = payment_attempt::Entity::find()
        .filter(payment_attempt::Column::PracticeId.eq(practice_id))
        .filter(payment_attempt::Column::Status.is_in([AttemptStatus::Failed, AttemptStatus::RequiresAction]))
        .filter(payment_attempt::Column::SettledAt.gt(since))
        .order_by_asc(payment_attempt::Column::SettledAt)
        .all(conn)
        .await?;
    for attempt in attempts {
        if ended.iter().any(|p| p.id == attempt.payment_id) {
            continue;
        }
        let Some(payment) = plan_payment::Entity::find_by_id(attempt.payment_id).one(conn).await? else { continue };
        if !payment.unpaid() {
            continue;
        }
        let what = match (attempt.status, payment.retry_on) {
            (AttemptStatus::RequiresAction, _) => "waiting for the owner to confirm with their bank".to_owned(),
            (_, Some(day)) => {
                format!("declined ({}), tried again on {day}", attempt.decline_code.as_deref().unwrap_or("declined"))
            }
            (_, None) => format!("declined ({}), not retried", attempt.decline_code.as_deref().unwrap_or("declined")),
        };
        lines.push(line(conn, platform, &payment, &what).await?);
    }
    let refunds = payment_refund::Entity::find()
        .filter(payment_refund::Column::PracticeId.eq(practice_id))
        .filter(payment_refund::Column::Status.eq(AttemptStatus::Failed))
        .filter(payment_refund::Column::SettledAt.gt(since))
        .all(conn)
        .await?;
    for refund in refunds {
        let Some(payment) = plan_payment::Entity::find_by_id(refund.payment_id).one(conn).await? else { continue };
        let why = refund.failure.as_deref().unwrap_or("refused by the gateway");
        let what = format!("a refund of {} failed ({why})", dollars(refund.amount_cents));
        lines.push(line(conn, platform, &payment, &what).await?);
    }
    Ok(lines)
}

/// `- Ann Jones (Bella): payment 3 of $88.99, <what> — <link>`.
async fn line(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    payment: &plan_payment::Model,
    what: &str,
) -> DomainResult<String> {
    let plan = plan::Entity::find_by_id(payment.plan_id).one(conn).await?;
    let (client_id, household, pet_name) = match plan {
        Some(plan) => {
            let household = client::Entity::find_by_id(plan.client_id).one(conn).await?;
            let name = household.map(|c| format!("{} {}", c.first_name, c.last_name).trim().to_owned());
            let pet_name = pet::Entity::find_by_id(plan.pet_id).one(conn).await?.map(|p| p.name);
            (Some(plan.client_id), name.unwrap_or_default(), pet_name.unwrap_or_default())
        }
        None => (None, String::new(), String::new()),
    };
    let link = client_id.map(|id| platform.link(&format!("/dashboard/clients/{id}"))).unwrap_or_default();
    Ok(format!(
        "- {household} ({pet_name}): payment {} of {}, {what} — {link}",
        payment.number,
        dollars(payment.amount_cents)
    ))
}
