//! The delivery outbox. A service writes a delivery in the same transaction
//! as the change that caused it; workers send it later and write back what
//! happened. The table is the source of truth: queues only carry ids.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{Cursor, DomainError, DomainResult, Page, Platform, Scope, entities::delivery, ports::SendOutcome};

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
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
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
        channel: Set(new.channel.as_str().to_owned()),
        recipient: Set(new.recipient),
        subject: Set(new.subject),
        body: Set(new.body),
        data: Set(new.data),
        reason: Set(new.reason),
        status: Set(DeliveryStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        provider: Set(None),
        provider_id: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(id)
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

/// Deliveries of every practice that are due now, oldest first.
pub async fn due(platform: &Platform, limit: u64) -> DomainResult<Vec<delivery::Model>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Queued.as_str()))
        .filter(delivery::Column::NextAttemptAt.lte(platform.clock.now()))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .limit(limit)
        .all(&platform.db)
        .await?)
}

/// Claims a due delivery for one attempt: only one worker wins, because the
/// update matches the attempt count it saw. Returns false when another
/// worker got there first.
pub async fn claim(platform: &Platform, row: &delivery::Model, lease: Duration) -> DomainResult<bool> {
    let now = platform.clock.now();
    let result = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(row.attempts + 1))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + lease))
        .filter(delivery::Column::Id.eq(row.id))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Queued.as_str()))
        .filter(delivery::Column::Attempts.eq(row.attempts))
        .exec(&platform.db)
        .await?;
    Ok(result.rows_affected == 1)
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

/// Writes back what one attempt (number `attempt`, as claimed) came to.
pub async fn record_outcome(
    platform: &Platform,
    id: Uuid,
    provider: &str,
    attempt: i32,
    outcome: &SendOutcome,
    jitter: f64,
) -> DomainResult<DeliveryStatus> {
    let now: DateTime<Utc> = platform.clock.now();
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Provider, Expr::value(provider))
        .filter(delivery::Column::Id.eq(id));
    let status = match outcome {
        SendOutcome::Sent { provider_id } => {
            update = update
                .col_expr(delivery::Column::ProviderId, Expr::value(provider_id.clone()))
                .col_expr(delivery::Column::SentAt, Expr::value(now))
                .col_expr(delivery::Column::LastError, Expr::value(Option::<String>::None));
            DeliveryStatus::Sent
        }
        SendOutcome::Failed { error } => {
            update = update.col_expr(delivery::Column::LastError, Expr::value(error.clone()));
            DeliveryStatus::Failed
        }
        SendOutcome::Retry { error, retry_after } => {
            update = update.col_expr(delivery::Column::LastError, Expr::value(error.clone()));
            if attempt >= MAX_ATTEMPTS {
                DeliveryStatus::Dead
            } else {
                update = update.col_expr(
                    delivery::Column::NextAttemptAt,
                    Expr::value(now + backoff(attempt, *retry_after, jitter)),
                );
                DeliveryStatus::Queued
            }
        }
    };
    update.col_expr(delivery::Column::Status, Expr::value(status.as_str())).exec(&platform.db).await?;
    Ok(status)
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
