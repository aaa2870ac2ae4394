//! The delivery outbox. A service writes a delivery in the same transaction
//! as the change that caused it; workers send it later and write back what
//! happened. The table is the source of truth: queues only carry ids.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    TransactionTrait,
    sea_query::{CaseStatement, Expr, Func, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    Cursor, DomainError, DomainResult, Page, Platform, Scope,
    entities::{delivery, owner_account, owner_device},
    ports::SendOutcome,
};

/// How a delivery travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A push notification to the owner's app.
    Push,
    /// A text message.
    Sms,
    /// An email.
    Email,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Push, Channel::Sms, Channel::Email];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Push => "push",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| DomainError::invalid("invalid_channel", format!("unknown channel {text}")))
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting to be sent (or to be retried).
    Queued,
    /// Accepted by the provider.
    Sent,
    /// Refused for good by the provider.
    Failed,
    /// Gave up after too many tries.
    Dead,
    /// Not sent, by the recipient's choice (opted out, preferences).
    Skipped,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Skipped => "skipped",
        }
    }
}

/// What a delivery is for, which decides the preferences it obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The account itself (email verification, password reset, staff
    /// logins, HELP replies): sent whatever the preferences say.
    Account,
    /// An invitation to the app (Invite Client, Reinvite All).
    Invitation,
    /// A message to one owner (a notification, a chat, a decision).
    Notification,
    /// A message-center blast to every app user.
    Blast,
    /// A past-due service or an appointment reminder ("postcard reminders").
    Reminder,
    /// A post-visit survey.
    Survey,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 6] = [
        Purpose::Account,
        Purpose::Invitation,
        Purpose::Notification,
        Purpose::Blast,
        Purpose::Reminder,
        Purpose::Survey,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Account => "account",
            Purpose::Invitation => "invitation",
            Purpose::Notification => "notification",
            Purpose::Blast => "blast",
            Purpose::Reminder => "reminder",
            Purpose::Survey => "survey",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| DomainError::invalid("invalid_purpose", format!("unknown purpose {text}")))
    }

    /// Whether an owner may turn it off: marketing-like mail then carries
    /// a one-click unsubscribe link.
    pub fn is_optional(self) -> bool {
        self != Purpose::Account
    }
}

/// Tries before a delivery is given up as dead.
pub const MAX_ATTEMPTS: i32 = 5;

/// What to send.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// How.
    pub channel: Channel,
    /// To whom: a device token, an E.164 number or an email address.
    pub recipient: String,
    /// Email subject or push title.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// Channel-specific extras.
    pub data: serde_json::Value,
    /// Why it is sent (rule or person), shown to staff.
    pub reason: String,
    /// What it is for: the preference it obeys.
    pub purpose: Purpose,
    /// The household it reaches, whose preferences apply.
    pub client_id: Option<Uuid>,
    /// Not to be sent before this (a text waiting for the recipient's daytime).
    pub not_before: Option<DateTime<Utc>>,
}

/// Queues a delivery on `conn`: pass the transaction of the change that causes it.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    new: NewDelivery,
) -> DomainResult<Uuid> {
    let now = platform.clock.now();
    let id = Uuid::new_v4();
    delivery::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        client_id: Set(new.client_id),
        purpose: Set(new.purpose.as_str().to_owned()),
        channel: Set(new.channel.as_str().to_owned()),
        recipient: Set(new.recipient),
        subject: Set(new.subject),
        body: Set(new.body),
        data: Set(new.data),
        reason: Set(new.reason),
        status: Set(DeliveryStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        relayed_at: Set(None),
        next_attempt_at: Set(new.not_before.map_or(now, |at| at.max(now))),
        provider: Set(None),
        provider_id: Set(None),
        provider_status: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// A push notification for an owner.
#[derive(Debug, Clone)]
pub struct PushMessage {
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// Extra data for the app (sent as strings).
    pub data: serde_json::Map<String, serde_json::Value>,
    /// A picture to show with it.
    pub image_url: Option<String>,
    /// Why it is sent, shown to staff.
    pub reason: String,
    /// What it is for.
    pub purpose: Purpose,
    /// Not to be sent before this.
    pub not_before: Option<DateTime<Utc>>,
}

/// Queues `message` to every device where the owner's account is logged
/// in, one delivery per device; returns the delivery ids (none when the
/// owner has no device). Pass the transaction of the change that causes it.
pub async fn enqueue_push(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    account_id: Uuid,
    message: PushMessage,
) -> DomainResult<Vec<Uuid>> {
    let Some(account) = owner_account::Entity::find_by_id(account_id)
        .filter(owner_account::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
    else {
        return Err(DomainError::NotFound);
    };
    let devices = owner_device::Entity::find().filter(owner_device::Column::AccountId.eq(account_id)).all(conn).await?;
    let mut ids = Vec::with_capacity(devices.len());
    for device in devices {
        let mut data = serde_json::json!({ "device_kind": device.kind, "push_data": message.data });
        if let Some(image) = &message.image_url {
            data["image_url"] = serde_json::Value::String(image.clone());
        }
        let new = NewDelivery {
            channel: Channel::Push,
            recipient: device.token,
            subject: Some(message.title.clone()),
            body: message.body.clone(),
            data,
            reason: message.reason.clone(),
            purpose: message.purpose,
            client_id: Some(account.client_id),
            not_before: message.not_before,
        };
        ids.push(enqueue(conn, platform, scope, new).await?);
    }
    Ok(ids)
}

/// A practice's deliveries, newest first.
pub async fn list(
    platform: &Platform,
    scope: Scope,
    after: Option<Cursor>,
    limit: u64,
) -> DomainResult<Page<delivery::Model>> {
    // Scoped here: ExprTrait's `min`/`max` shadow `Ord`'s on integers.
    use sea_orm::sea_query::ExprTrait as _;
    let mut query = delivery::Entity::find().filter(delivery::Column::PracticeId.eq(scope.practice_id));
    if let Some(cursor) = after {
        query = query.filter(
            delivery::Column::CreatedAt
                .lt(cursor.created_at)
                .or(delivery::Column::CreatedAt.eq(cursor.created_at).and(delivery::Column::Id.lt(cursor.id))),
        );
    }
    let mut items = query
        .order_by_desc(delivery::Column::CreatedAt)
        .order_by_desc(delivery::Column::Id)
        .limit(limit + 1)
        .all(&platform.db)
        .await?;
    let next = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| Cursor { created_at: last.created_at, id: last.id })
    } else {
        None
    };
    Ok(Page { items, next })
}

/// One delivery of the caller's practice.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<delivery::Model> {
    delivery::Entity::find_by_id(id)
        .filter(delivery::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// How many deliveries of a practice stand in each status.
pub async fn counts(platform: &Platform, scope: Scope) -> DomainResult<Vec<(String, i64)>> {
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "n")
        .filter(delivery::Column::PracticeId.eq(scope.practice_id))
        .group_by(delivery::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(&platform.db)
        .await?)
}

/// How many deliveries a practice queued in a period, by channel and
/// status (the message and delivery volumes report).
pub async fn volumes(
    platform: &Platform,
    scope: Scope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> DomainResult<Vec<(String, String, i64)>> {
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Channel)
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "n")
        .filter(delivery::Column::PracticeId.eq(scope.practice_id))
        .filter(delivery::Column::CreatedAt.gte(from))
        .filter(delivery::Column::CreatedAt.lt(until))
        .group_by(delivery::Column::Channel)
        .group_by(delivery::Column::Status)
        .order_by_asc(delivery::Column::Channel)
        .order_by_asc(delivery::Column::Status)
        .into_tuple()
        .all(&platform.db)
        .await?)
}

/// Marks up to `limit` due rows as relayed and returns them, for the relay to
/// put on the streams: rows never relayed first, then rows relayed longer
/// than `timeout` ago and still unclaimed (their entry was lost). Each kind
/// is one range of the `deliveries_relay` index, so rows relayed but not yet
/// claimed cost nothing however many wait. Of two relays racing for a row
/// only one marks it.
pub async fn mark_relayed(platform: &Platform, limit: u64, timeout: Duration) -> DomainResult<Vec<(Uuid, Channel)>> {
    let now = platform.clock.now();
    let fresh = delivery::Column::RelayedAt.is_null();
    let mut marked = mark_relayed_where(platform, now, limit, fresh, delivery::Column::NextAttemptAt).await?;
    let left = limit.saturating_sub(marked.len() as u64);
    if left > 0 {
        // Oldest relay first: ordering by due time would steer the planner to
        // the due index and back to walking every unclaimed row.
        let lost = delivery::Column::RelayedAt.lt(now - timeout);
        marked.extend(mark_relayed_where(platform, now, left, lost, delivery::Column::RelayedAt).await?);
    }
    Ok(marked)
}

async fn mark_relayed_where(
    platform: &Platform,
    now: DateTime<Utc>,
    limit: u64,
    relayable: SimpleExpr,
    order: delivery::Column,
) -> DomainResult<Vec<(Uuid, Channel)>> {
    let due = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Status.eq(DeliveryStatus::Queued.as_str()))
        .filter(relayable.clone())
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(order)
        .limit(limit)
        .into_query();
    let mut mark = delivery::Entity::update_many()
        .col_expr(delivery::Column::RelayedAt, Expr::value(now))
        .filter(delivery::Column::Id.in_subquery(due))
        // Repeated so a relay that waited on another's lock re-checks it.
        .filter(still_queued())
        .filter(relayable)
        .into_query();
    // Only what the entry needs: decoding whole rows was most of the relay's work.
    mark.returning(Query::returning().columns([delivery::Column::Id, delivery::Column::Channel]));
    let marked = platform.db.query_all(&mark).await?;
    marked
        .iter()
        .map(|row| {
            let id: Uuid = row.try_get_by_index(0)?;
            let channel: String = row.try_get_by_index(1)?;
            Ok((id, Channel::parse(&channel)?))
        })
        .collect()
}

/// Clears the relay mark of rows that did not reach Redis after all.
pub async fn unmark_relayed(platform: &Platform, ids: &[Uuid]) -> DomainResult<()> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::RelayedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(still_queued())
        .exec(&platform.db)
        .await?;
    Ok(())
}

/// Clears every queued row's relay mark (Redis lost the streams); returns how many.
pub async fn forget_relays(platform: &Platform) -> DomainResult<u64> {
    let result = delivery::Entity::update_many()
        .col_expr(delivery::Column::RelayedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Queued.as_str()))
        .filter(delivery::Column::RelayedAt.is_not_null())
        .exec(&platform.db)
        .await?;
    Ok(result.rows_affected)
}

/// `status = 'queued'` for a statement that picks its rows by id: written as
/// an expression, which no index covers, so SQLite looks the ids up by key
/// instead of walking every queued row through a status index (its planner,
/// without statistics, prefers those, and the walk grows with the table).
fn still_queued() -> SimpleExpr {
    use sea_orm::sea_query::ExprTrait as _;
    Expr::expr(Func::coalesce([Expr::col(delivery::Column::Status), Expr::val("")])).eq(DeliveryStatus::Queued.as_str())
}

/// Claims rows for one attempt each, in one statement: a row is taken only
/// while it is queued and due, and the claim moves its next attempt `lease`
/// ahead, so of two workers racing for it only one wins (the other's update
/// no longer matches). Nobody claims it again until the lease runs out, which
/// only matters if its worker died. Returns the rows won, their attempt counted.
async fn claim_where(platform: &Platform, picked: SimpleExpr, lease: Duration) -> DomainResult<Vec<delivery::Model>> {
    use sea_orm::sea_query::ExprTrait as _;
    let now = platform.clock.now();
    Ok(delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::col(delivery::Column::Attempts).add(1))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + lease))
        .filter(picked)
        .filter(still_queued())
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .exec_with_returning(&platform.db)
        .await?)
}

/// Claims up to `limit` due deliveries of every practice, oldest first (the
/// outbox-table worker's queue when there is no Redis).
pub async fn claim_due(platform: &Platform, limit: u64, lease: Duration) -> DomainResult<Vec<delivery::Model>> {
    let due = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Status.eq(DeliveryStatus::Queued.as_str()))
        .filter(delivery::Column::NextAttemptAt.lte(platform.clock.now()))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .limit(limit)
        .into_query();
    claim_where(platform, delivery::Column::Id.in_subquery(due), lease).await
}

/// Claims the rows of `ids` that still wait for the stream entries naming
/// them (an entry for a row already sent, or put back for a later retry, is
/// stale and claims nothing).
pub async fn claim_relayed(platform: &Platform, ids: &[Uuid], lease: Duration) -> DomainResult<Vec<delivery::Model>> {
    use sea_orm::sea_query::ExprTrait as _;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let picked = delivery::Column::Id.is_in(ids.iter().copied()).and(delivery::Column::RelayedAt.is_not_null());
    claim_where(platform, picked, lease).await
}

/// Of `ids`, the rows still waiting for their stream entry but held by a
/// worker's claim: their entries stay pending, to come back if that worker
/// died and its claim runs out.
pub async fn held(platform: &Platform, ids: &[Uuid]) -> DomainResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Id)
        .filter(delivery::Column::Id.is_in(ids.iter().copied()))
        .filter(still_queued())
        .filter(delivery::Column::RelayedAt.is_not_null())
        .filter(delivery::Column::NextAttemptAt.gt(platform.clock.now()))
        .into_tuple()
        .all(&platform.db)
        .await?)
}

/// When to try again after `attempt` failures: exponential from 5 s, capped
/// at an hour, with up to 25 % jitter, and never before `retry_after`.
pub fn backoff(attempt: i32, retry_after: Option<u64>, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    let base = 5i64.saturating_mul(2i64.saturating_pow(exponent)).min(3600);
    let jittered = base + ((base as f64) * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    let floor = retry_after.map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX));
    Duration::seconds(jittered.max(floor))
}

/// How one claimed attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The delivery.
    pub id: Uuid,
    /// Its number, as claimed (1 for the first try).
    pub number: i32,
    /// Who tried.
    pub provider: &'static str,
    /// What the provider said.
    pub outcome: SendOutcome,
    /// Spread for the retry delay, 0 to 1.
    pub jitter: f64,
}

impl Attempt {
    /// The status this attempt leaves its delivery in.
    pub fn status(&self) -> DeliveryStatus {
        match &self.outcome {
            SendOutcome::Sent { .. } => DeliveryStatus::Sent,
            SendOutcome::Unreachable { .. } => DeliveryStatus::Failed,
            SendOutcome::Skipped { .. } => DeliveryStatus::Skipped,
            SendOutcome::Invalid { .. } => DeliveryStatus::Dead,
            SendOutcome::Retry { .. } if self.number >= MAX_ATTEMPTS => DeliveryStatus::Dead,
            SendOutcome::Retry { .. } => DeliveryStatus::Queued,
        }
    }
}

/// Writes back what attempts came to, in one transaction; returns each
/// one's new status in order. The sends that succeeded (nearly all) go in
/// one statement per provider.
pub async fn record_outcomes(platform: &Platform, attempts: &[Attempt]) -> DomainResult<Vec<DeliveryStatus>> {
    let now: DateTime<Utc> = platform.clock.now();
    let no_time = Option::<DateTime<Utc>>::None;
    let txn = platform.db.begin().await?;
    let mut sent: BTreeMap<&str, Vec<(Uuid, &str)>> = BTreeMap::new();
    for attempt in attempts {
        let update = delivery::Entity::update_many()
            .col_expr(delivery::Column::Provider, Expr::value(attempt.provider))
            .col_expr(delivery::Column::RelayedAt, Expr::value(no_time))
            .col_expr(delivery::Column::Status, Expr::value(attempt.status().as_str()))
            .filter(delivery::Column::Id.eq(attempt.id));
        let update = match &attempt.outcome {
            SendOutcome::Sent { provider_id } => {
                sent.entry(attempt.provider).or_default().push((attempt.id, provider_id));
                continue;
            }
            SendOutcome::Retry { error, retry_after } if attempt.status() == DeliveryStatus::Queued => {
                update.col_expr(delivery::Column::LastError, Expr::value(error.clone())).col_expr(
                    delivery::Column::NextAttemptAt,
                    Expr::value(now + backoff(attempt.number, *retry_after, attempt.jitter)),
                )
            }
            SendOutcome::Retry { error, .. }
            | SendOutcome::Unreachable { error }
            | SendOutcome::Invalid { error }
            | SendOutcome::Skipped { reason: error } => {
                update.col_expr(delivery::Column::LastError, Expr::value(error.clone()))
            }
        };
        update.exec(&txn).await?;
    }
    for (provider, rows) in sent {
        let provider_ids = rows.iter().fold(CaseStatement::new(), |case, (id, provider_id)| {
            case.case(delivery::Column::Id.eq(*id), Expr::value(provider_id.to_string()))
        });
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Provider, Expr::value(provider))
            .col_expr(delivery::Column::ProviderId, provider_ids.into())
            .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Sent.as_str()))
            .col_expr(delivery::Column::SentAt, Expr::value(now))
            .col_expr(delivery::Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(delivery::Column::RelayedAt, Expr::value(no_time))
            .filter(delivery::Column::Id.is_in(rows.iter().map(|(id, _)| *id)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(attempts.iter().map(Attempt::status).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        assert_eq!(backoff(1, None, 0.0), Duration::seconds(5));
        assert_eq!(backoff(2, None, 0.0), Duration::seconds(10));
        assert_eq!(backoff(3, None, 1.0), Duration::seconds(25));
        assert_eq!(backoff(30, None, 0.0), Duration::seconds(3600));
        assert_eq!(backoff(1, Some(120), 0.0), Duration::seconds(120));
    }

    #[test]
    fn channels_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()).ok(), Some(channel));
        }
        assert!(Channel::parse("pigeon").is_err());
    }
}
