//! The delivery outbox. A service writes a delivery in the same transaction
//! as the change that caused it; workers send it later and write back what
//! happened. The table is the source of truth: a claim (an attempt number
//! and a lease) decides who sends a row, and only that claim records how it went.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Statement,
    sea_query::{Expr, Func, LockBehavior, LockType, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::{
    Code, Cursor, DomainError, DomainResult, Page, Platform, Scope,
    db::entities::{delivery, owner_account, owner_device},
    ports::SendOutcome,
};

pub use crate::db::entities::delivery::DeliveryStatus;

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
            .ok_or_else(|| DomainError::with(Code::InvalidChannel, format!("unknown channel {text}")))
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
            .ok_or_else(|| DomainError::with(Code::InvalidPurpose, format!("unknown purpose {text}")))
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
    /// A link for the recipient alone (one that signs them in): the body,
    /// subject and data say [`delivery::SEALED`] where it goes, and that
    /// stand-in is all staff ever see of it.
    pub sealed: Option<String>,
}

impl NewDelivery {
    /// The row this delivery is queued as: due at once (or at `not_before`),
    /// not yet attempted.
    pub fn queued(self, id: Uuid, scope: Scope, now: DateTime<Utc>) -> delivery::Model {
        delivery::Model {
            id,
            practice_id: scope.practice_id,
            client_id: self.client_id,
            purpose: self.purpose.as_str().to_owned(),
            channel: self.channel.as_str().to_owned(),
            recipient: self.recipient,
            subject: self.subject,
            body: self.body,
            data: self.data,
            reason: self.reason,
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: self.not_before.map_or(now, |at| at.max(now)),
            provider: None,
            provider_id: None,
            provider_status: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            secret: self.sealed.map(delivery::Sealed),
        }
    }
}

/// Queues a delivery on `conn`: pass the transaction of the change that causes it.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    new: NewDelivery,
) -> DomainResult<Uuid> {
    // Time-ordered, so a fan-out's rows sit together in the primary-key
    // index: claims and outcomes, which go by id in queue order, touch a
    // few hot pages instead of one random page a row.
    let id = Uuid::now_v7();
    // Every column written: reset_all marks the model's values Set.
    new.queued(id, scope, platform.clock.now()).into_active_model().reset_all().insert(conn).await?;
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
    /// A link for the recipient alone (see [`NewDelivery::sealed`]).
    pub sealed: Option<String>,
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
            sealed: message.sealed.clone(),
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
    let query = delivery::Entity::find().filter(delivery::Column::PracticeId.eq(scope.practice_id));
    let keyset = (delivery::Column::CreatedAt, delivery::Column::Id);
    let key = |row: &delivery::Model| Some(Cursor { created_at: row.created_at, id: row.id });
    crate::db::paging::newest_first(&platform.db, query, keyset, after, limit, key).await
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
) -> DomainResult<Vec<(String, DeliveryStatus, i64)>> {
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

/// `status = 'queued'` with the status written out, not bound: a planner
/// uses the index of queued rows only when the query names its condition
/// (SQLite never, PostgreSQL not in a generic plan, for a parameter).
pub fn is_queued() -> SimpleExpr {
    use sea_orm::sea_query::ExprTrait as _;
    Expr::col(delivery::Column::Status).eq(Expr::cust(format!("'{}'", DeliveryStatus::Queued.to_value())))
}

/// `status = 'queued'` for a statement that picks its rows by id: written as
/// an expression, which no index covers, so SQLite looks the ids up by key
/// instead of walking the index of queued rows (its planner, without
/// statistics, may prefer that, and the walk grows with the queue).
fn still_queued() -> SimpleExpr {
    use sea_orm::sea_query::ExprTrait as _;
    Expr::expr(Func::coalesce([Expr::col(delivery::Column::Status), Expr::val("")]))
        .eq(DeliveryStatus::Queued.to_value())
}

/// A claimed delivery: its attempt, and the whole row as JSON built by the
/// database, which the relay puts in its stream entry as it is (nothing
/// decodes the row until the worker that sends it).
#[derive(Debug, Clone)]
pub struct ClaimedRow {
    /// The delivery.
    pub id: Uuid,
    /// The attempt claimed (1 for the first try).
    pub attempt: i32,
    /// `Channel` as its stored name.
    pub channel: String,
    /// The row, as `delivery::Model` serializes.
    pub json: String,
}

impl ClaimedRow {
    /// The row.
    pub fn model(&self) -> DomainResult<delivery::Model> {
        serde_json::from_str(&self.json).map_err(DomainError::unexpected)
    }
}

/// How a column goes into a row's JSON.
#[derive(Clone, Copy)]
enum JsonField {
    /// A UUID (a 16-byte blob on SQLite).
    Uuid,
    /// A JSON document (text on SQLite).
    Json,
    /// Text, a number or a timestamp, as the database writes it.
    Plain,
}

/// Every column of `deliveries`, as `delivery::Model` names its fields.
const ROW_FIELDS: [(&str, JsonField); 20] = [
    ("id", JsonField::Uuid),
    ("practice_id", JsonField::Uuid),
    ("client_id", JsonField::Uuid),
    ("purpose", JsonField::Plain),
    ("channel", JsonField::Plain),
    ("recipient", JsonField::Plain),
    ("subject", JsonField::Plain),
    ("body", JsonField::Plain),
    ("data", JsonField::Json),
    ("reason", JsonField::Plain),
    ("status", JsonField::Plain),
    ("attempts", JsonField::Plain),
    ("next_attempt_at", JsonField::Plain),
    ("provider", JsonField::Plain),
    ("provider_id", JsonField::Plain),
    ("provider_status", JsonField::Plain),
    ("last_error", JsonField::Plain),
    ("created_at", JsonField::Plain),
    ("sent_at", JsonField::Plain),
    ("secret", JsonField::Plain),
];

/// The SQL expression of a row's JSON on `backend`.
fn row_json(backend: DbBackend) -> String {
    let fields: Vec<String> = ROW_FIELDS
        .iter()
        .map(|(name, kind)| {
            let value = match (backend, kind) {
                // hex(NULL) is '' where the JSON wants null.
                (DbBackend::Sqlite, JsonField::Uuid) => format!("nullif(lower(hex({name})), '')"),
                (DbBackend::Sqlite, JsonField::Json) => format!("json({name})"),
                _ => (*name).to_owned(),
            };
            format!("'{name}', {value}")
        })
        .collect();
    match backend {
        DbBackend::Postgres => format!("json_build_object({})::text", fields.join(", ")),
        _ => format!("json_object({})", fields.join(", ")),
    }
}

/// Claims rows for one attempt each, in one statement: a row is taken only
/// while it is queued and due, and the claim moves its next attempt `lease`
/// ahead, so of two workers racing for it only one wins (the other's update
/// no longer matches). Nobody claims it again until the lease runs out, which
/// only matters if its worker died. Returns the rows won, their attempt counted.
async fn claim_where(platform: &Platform, picked: SimpleExpr, lease: Duration) -> DomainResult<Vec<ClaimedRow>> {
    use sea_orm::sea_query::ExprTrait as _;
    let now = platform.clock.now();
    let mut claim = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::col(delivery::Column::Attempts).add(1))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + lease))
        .filter(picked)
        .filter(still_queued())
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .into_query();
    claim.returning(Query::returning().exprs([
        Expr::col(delivery::Column::Id),
        Expr::col(delivery::Column::Attempts),
        Expr::col(delivery::Column::Channel),
        Expr::cust(row_json(platform.writer.get_database_backend())),
    ]));
    let rows = platform.writer.query_all(&claim).await?;
    rows.iter()
        .map(|row| {
            Ok(ClaimedRow {
                id: row.try_get_by_index(0)?,
                attempt: row.try_get_by_index(1)?,
                channel: row.try_get_by_index(2)?,
                json: row.try_get_by_index(3)?,
            })
        })
        .collect()
}

/// Claims up to `limit` due deliveries of each of `channels`, oldest first:
/// the outbox-table worker's queue when there is no Redis, and what the relay
/// puts on the streams when there is (the row rides in the entry, so a
/// worker reading it fresh sends without touching the table again). Each
/// channel is one range of the index of queued rows (channel, next attempt),
/// so claiming texts never walks a push blast waiting behind a full stream.
pub async fn claim_due(
    platform: &Platform,
    channels: &[Channel],
    limit: u64,
    lease: Duration,
) -> DomainResult<Vec<ClaimedRow>> {
    use sea_orm::sea_query::ExprTrait as _;
    let backend = platform.writer.get_database_backend();
    let mut claimed = Vec::new();
    for channel in channels {
        // On SQLite rows are picked by rowid, the table's own key: by id each
        // claimed row would cost a search of the id index first.
        let key = match backend {
            DbBackend::Postgres => Expr::col(delivery::Column::Id),
            _ => Expr::cust("rowid"),
        };
        // PostgreSQL: relays claiming at once take different rows instead of
        // waiting on each other's (SQLite has one writer and ignores this).
        let due = delivery::Entity::find()
            .select_only()
            .expr(key.clone())
            .filter(is_queued())
            .filter(delivery::Column::Channel.eq(channel.as_str()))
            .filter(delivery::Column::NextAttemptAt.lte(platform.clock.now()))
            .order_by_asc(delivery::Column::NextAttemptAt)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .into_query();
        let picked = match backend {
            // Picked once: as `IN (…)` PostgreSQL may run the subquery again
            // for each row it updates, and each run skips the rows the update
            // already locked, so it would claim more than `limit`. ARRAY(…)
            // is an init plan, run exactly once.
            DbBackend::Postgres => Expr::cust_with_exprs(
                "$1 = ANY(ARRAY $2)",
                [Expr::col(delivery::Column::Id), Expr::SubQuery(None, Box::new(due.into()))],
            ),
            _ => key.in_subquery(due),
        };
        claimed.extend(claim_where(platform, picked, lease).await?);
    }
    Ok(claimed)
}

/// A claimed attempt at a delivery: its id and attempt number. Only the
/// latest claim of a row may renew it or record how it went.
pub type ClaimedAttempt = (Uuid, i32);

/// `id IN (…) AND attempts = n` for each attempt number among `claims`.
fn of_attempts(claims: &[ClaimedAttempt]) -> Vec<SimpleExpr> {
    use sea_orm::sea_query::ExprTrait as _;
    let mut by_number: BTreeMap<i32, Vec<Uuid>> = BTreeMap::new();
    for (id, number) in claims {
        by_number.entry(*number).or_default().push(*id);
    }
    by_number
        .into_iter()
        .map(|(number, ids)| delivery::Column::Id.is_in(ids).and(delivery::Column::Attempts.eq(number)))
        .collect()
}

/// Claims again the rows of stream entries taken over from a silent worker,
/// each only if its attempt is still the entry's and its lease ran out (else
/// the relay has claimed it since, or it was recorded: the entry is stale).
pub async fn claim_relayed(
    platform: &Platform,
    claims: &[ClaimedAttempt],
    lease: Duration,
) -> DomainResult<Vec<ClaimedRow>> {
    let mut claimed = Vec::new();
    for picked in of_attempts(claims) {
        claimed.extend(claim_where(platform, picked, lease).await?);
    }
    Ok(claimed)
}

/// Extends the lease of claims that waited long in a stream; returns the
/// ids still held (a claim whose lease ran out and was claimed again since
/// is not renewed: its entry is stale).
pub async fn renew(platform: &Platform, claims: &[ClaimedAttempt], lease: Duration) -> DomainResult<Vec<Uuid>> {
    let mut renewed = Vec::new();
    for picked in of_attempts(claims) {
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(platform.clock.now() + lease))
            .filter(picked)
            .filter(still_queued())
            .into_query();
        update.returning(Query::returning().column(delivery::Column::Id));
        for row in platform.writer.query_all(&update).await? {
            renewed.push(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    Ok(renewed)
}

/// Undoes claims whose entries never reached Redis: due again at once, the
/// attempt not counted.
pub async fn release(platform: &Platform, claims: &[ClaimedAttempt]) -> DomainResult<()> {
    use sea_orm::sea_query::ExprTrait as _;
    for picked in of_attempts(claims) {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::Attempts, Expr::col(delivery::Column::Attempts).sub(1))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(platform.clock.now()))
            .filter(picked)
            .filter(still_queued())
            .exec(&platform.writer)
            .await?;
    }
    Ok(())
}

/// `sql` with its `?` placeholders as `backend` writes them.
fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 64);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
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

/// Writes back what attempts came to, atomically; returns each one's new
/// status in order. An attempt counts only while it is its row's latest
/// claim: a late answer to a claim that ran out and was claimed again
/// changes nothing. The sends that succeeded (nearly all) go in one
/// statement per provider and attempt number, and a batch that needs only
/// that one statement runs it without a transaction around it (two round
/// trips to the database fewer).
pub async fn record_outcomes(platform: &Platform, attempts: &[Attempt]) -> DomainResult<Vec<DeliveryStatus>> {
    let now: DateTime<Utc> = platform.clock.now();
    let backend = platform.writer.get_database_backend();
    let mut statements = Vec::new();
    let mut sent: BTreeMap<(&str, i32), Vec<(Uuid, &str)>> = BTreeMap::new();
    for attempt in attempts {
        let error = match &attempt.outcome {
            SendOutcome::Sent { provider_id } => {
                sent.entry((attempt.provider, attempt.number)).or_default().push((attempt.id, provider_id));
                continue;
            }
            SendOutcome::Retry { error, .. }
            | SendOutcome::Unreachable { error }
            | SendOutcome::Invalid { error }
            | SendOutcome::Skipped { reason: error } => error,
        };
        let mut update = delivery::Entity::update_many()
            .col_expr(delivery::Column::Provider, Expr::value(attempt.provider))
            .col_expr(delivery::Column::Status, Expr::value(attempt.status()))
            .col_expr(delivery::Column::LastError, Expr::value(error.clone()))
            .filter(delivery::Column::Id.eq(attempt.id))
            .filter(delivery::Column::Attempts.eq(attempt.number));
        if let SendOutcome::Retry { retry_after, .. } = &attempt.outcome
            && attempt.status() == DeliveryStatus::Queued
        {
            let next = now + backoff(attempt.number, *retry_after, attempt.jitter);
            update = update.col_expr(delivery::Column::NextAttemptAt, Expr::value(next));
        } else {
            // Settled: the recipient's secret has no more use here.
            update = update.col_expr(delivery::Column::Secret, Expr::value(Option::<String>::None));
        }
        statements.push(backend.build(&update.into_query()));
    }
    for ((provider, number), rows) in sent {
        // One statement joining the provider ids given as VALUES: a CASE over
        // the ids would compare every row with every id.
        let pairs = vec!["(?, ?)"; rows.len()].join(", ");
        let sql = format!(
            "WITH accepted(id, provider_id) AS (VALUES {pairs}) \
             UPDATE deliveries SET provider = ?, provider_id = accepted.provider_id, status = ?, sent_at = ?, \
             last_error = NULL, secret = NULL FROM accepted WHERE deliveries.id = accepted.id AND deliveries.attempts = ?"
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 2 + 4);
        for (id, provider_id) in &rows {
            values.push((*id).into());
            values.push((*provider_id).into());
        }
        values.extend([provider.into(), DeliveryStatus::Sent.into(), now.into(), number.into()]);
        statements.push(Statement::from_sql_and_values(backend, numbered(backend, &sql), values));
    }
    if statements.len() > 1 {
        let txn = platform.begin_write().await?;
        for statement in statements {
            txn.execute_raw(statement).await?;
        }
        txn.commit().await?;
    } else if let Some(statement) = statements.pop() {
        platform.writer.execute_raw(statement).await?;
    }
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
    fn row_json_names_every_column() {
        use sea_orm::{IdenStatic, Iterable};
        let columns: Vec<&str> = delivery::Column::iter().map(|c| c.as_str()).collect();
        let fields: Vec<&str> = ROW_FIELDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(columns, fields);
    }

    #[test]
    fn placeholders_are_numbered_on_postgres() {
        assert_eq!(numbered(DbBackend::Postgres, "a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(numbered(DbBackend::Sqlite, "a = ?"), "a = ?");
    }

    #[test]
    fn channels_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()).ok(), Some(channel));
        }
        assert!(Channel::parse("pigeon").is_err());
    }
}
