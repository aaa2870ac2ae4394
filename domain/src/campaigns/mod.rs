//! Practice-wide sends run by the workers' timed jobs: message-center
//! blasts to every app user, and Reinvite All. Asking for one records it;
//! the job queues its deliveries once, in the transaction that marks it done.

pub mod reinvite;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{campaign, owner_account},
    deliveries::outbox::{self, Purpose, PushMessage},
    practices,
};

/// The campaign kind of a message-center blast.
pub const BLAST: &str = "blast";

/// A blast to write.
#[derive(Debug, Clone)]
pub struct NewBlast {
    /// The notification's title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// When to send it; `None` sends it at once.
    pub send_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest blast title…
pub const MAX_TITLE_CHARS: usize = 100;

/// …and text.
pub const MAX_BODY_CHARS: usize = 1_000;

/// Records a blast to every active app user of the practice; the campaigns
/// job sends it at `send_at`.
pub async fn schedule_blast(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    new: NewBlast,
) -> DomainResult<campaign::Model> {
    let title = new.title.trim().to_owned();
    let body = new.body.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(DomainError::with(Code::InvalidTitle, "give a title of 1 to 100 characters"));
    }
    if body.is_empty() || body.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::with(Code::InvalidBody, "give a message of 1 to 1,000 characters"));
    }
    let now = platform.clock.now();
    let run_at = new.send_at.map_or(now, |at| at.max(now));
    let id = Uuid::new_v4();
    let txn = platform.begin_write().await?;
    let blast = campaign::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        kind: Set(BLAST.to_owned()),
        period: Set(id.to_string()),
        sent_at: Set(now),
        recipients: Set(0),
        title: Set(Some(title)),
        body: Set(Some(body)),
        run_at: Set(Some(run_at)),
        done_at: Set(None),
        created_by: Set(Some(actor.name.clone())),
    }
    .insert(&txn)
    .await?;
    Entry::new("campaign.blast", actor, origin).target("campaign", id).record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(blast)
}

/// A practice's campaigns, newest first.
pub async fn list(platform: &Platform, scope: Scope, limit: u64) -> DomainResult<Vec<campaign::Model>> {
    Ok(campaign::Entity::find()
        .filter(campaign::Column::PracticeId.eq(scope.practice_id))
        .order_by_desc(campaign::Column::SentAt)
        .limit(limit)
        .all(&platform.db)
        .await?)
}

/// Runs every campaign that is due and not yet run; returns how many ran.
/// Safe with several workers: each campaign is claimed by the transaction
/// that queues its deliveries.
pub async fn run_due(platform: &Platform) -> DomainResult<u32> {
    let now = platform.clock.now();
    let due = campaign::Entity::find()
        .filter(campaign::Column::DoneAt.is_null())
        .filter(campaign::Column::RunAt.lte(now))
        .order_by_asc(campaign::Column::RunAt)
        .limit(20)
        .all(&platform.db)
        .await?;
    let mut ran = 0;
    for campaign in due {
        let txn = platform.begin_write().await?;
        let claimed = campaign::Entity::update_many()
            .col_expr(campaign::Column::DoneAt, Expr::value(now))
            .filter(campaign::Column::Id.eq(campaign.id))
            .filter(campaign::Column::DoneAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        let recipients = run(&txn, platform, &campaign).await?;
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Recipients, Expr::value(i32::try_from(recipients).unwrap_or(i32::MAX)))
            .filter(campaign::Column::Id.eq(campaign.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(campaign_id = %campaign.id, kind = %campaign.kind, recipients, "campaign queued");
        ran += 1;
    }
    Ok(ran)
}

async fn run(conn: &impl ConnectionTrait, platform: &Platform, campaign: &campaign::Model) -> DomainResult<u32> {
    let practice = practices::get(platform, Scope { practice_id: campaign.practice_id }).await?;
    match campaign.kind.as_str() {
        reinvite::REINVITE_ALL => reinvite::queue_reinvitations(conn, platform, &practice, campaign).await,
        BLAST => queue_blast(conn, platform, campaign).await,
        other => {
            tracing::error!(campaign_id = %campaign.id, kind = other, "unknown campaign kind; marked done unsent");
            Ok(0)
        }
    }
}

/// One push per device of every app account; the workers skip disabled
/// accounts and households that turned push off, and say so on each row.
async fn queue_blast(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    campaign: &campaign::Model,
) -> DomainResult<u32> {
    let scope = Scope { practice_id: campaign.practice_id };
    let accounts =
        owner_account::Entity::find().filter(owner_account::Column::PracticeId.eq(scope.practice_id)).all(conn).await?;
    let by = campaign.created_by.as_deref().unwrap_or("the practice");
    let mut reached = 0;
    for account in accounts {
        let message = PushMessage {
            title: campaign.title.clone().unwrap_or_default(),
            body: campaign.body.clone().unwrap_or_default(),
            data: serde_json::Map::from_iter([("campaign_id".to_owned(), campaign.id.to_string().into())]),
            image_url: None,
            reason: format!("message-center blast by {by}"),
            purpose: Purpose::Blast,
            not_before: None,
            sealed: None,
        };
        if !outbox::enqueue_push(conn, platform, scope, account.id, message).await?.is_empty() {
            reached += 1;
        }
    }
    Ok(reached)
}
