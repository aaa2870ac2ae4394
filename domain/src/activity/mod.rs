//! The activity log: append-only. This module has no update or delete on
//! purpose; entries are written in the same transaction as what they record.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{
    Actor, DomainResult, Origin, Platform, Scope,
    db::entities::activity,
    kernel::{caller::Authorized, exports::SpreadsheetCsv},
};

/// What happened, to which record, by whom.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    action: &'static str,
    target: Option<(&'static str, String)>,
    detail: Option<serde_json::Value>,
    actor: &'a Actor,
    approver: Option<&'a Actor>,
    origin: &'a Origin,
}

impl<'a> Entry<'a> {
    /// `action` is a stable dotted name, e.g. `auth.login`, `staff.create`.
    pub fn new(action: &'static str, actor: &'a Actor, origin: &'a Origin) -> Self {
        Self { action, target: None, detail: None, actor, approver: None, origin }
    }

    /// An entry for what `who` did, with the manager who approved it, if one did.
    pub fn authorized(action: &'static str, who: &'a Authorized, origin: &'a Origin) -> Self {
        Self::new(action, &who.actor, origin).approved_by(who.approver.as_ref())
    }

    /// The record touched: its kind (`staff_user`) and id.
    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    /// Anything else worth keeping (never secrets).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Who approved it with their own credentials (a manager override).
    pub fn approved_by(mut self, approver: Option<&'a Actor>) -> Self {
        self.approver = approver;
        self
    }

    /// Appends the entry to `scope`'s log, on `conn` (usually the caller's
    /// transaction, so the entry stands or falls with what it records).
    pub async fn record(self, conn: &impl ConnectionTrait, platform: &Platform, scope: Scope) -> DomainResult<()> {
        let (target_type, target_id) = self.target.map_or((None, None), |(kind, id)| (Some(kind.to_owned()), Some(id)));
        activity::ActiveModel {
            // Time-ordered, so entries written at one instant keep their order.
            id: Set(Uuid::now_v7()),
            practice_id: Set(scope.practice_id),
            occurred_at: Set(platform.clock.now()),
            actor_id: Set(self.actor.id),
            actor_name: Set(self.actor.name.clone()),
            action: Set(self.action.to_owned()),
            target_type: Set(target_type),
            target_id: Set(target_id),
            detail: Set(self.detail),
            request_id: Set(self.origin.request_id.clone()),
            ip: Set(self.origin.ip.clone()),
            approver_id: Set(self.approver.and_then(|a| a.id)),
            approver_name: Set(self.approver.map(|a| a.name.clone())),
        }
        .insert(conn)
        .await?;
        Ok(())
    }
}

/// The newest entries of a practice.
pub async fn recent(platform: &Platform, scope: Scope, limit: u64) -> DomainResult<Vec<activity::Model>> {
    Ok(activity::Entity::find()
        .filter(activity::Column::PracticeId.eq(scope.practice_id))
        .order_by_desc(activity::Column::OccurredAt)
        .order_by_desc(activity::Column::Id)
        .limit(limit)
        .all(&platform.db)
        .await?)
}

/// Every entry about one record (`kind`, `id`), oldest first: its history.
pub async fn about(
    conn: &impl ConnectionTrait,
    scope: Scope,
    kind: &str,
    id: Uuid,
) -> DomainResult<Vec<activity::Model>> {
    Ok(activity::Entity::find()
        .filter(activity::Column::PracticeId.eq(scope.practice_id))
        .filter(activity::Column::TargetType.eq(kind))
        .filter(activity::Column::TargetId.eq(id.to_string()))
        .order_by_asc(activity::Column::OccurredAt)
        .order_by_asc(activity::Column::Id)
        .all(conn)
        .await?)
}

/// Which entries to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Actions starting with this (`auth.` for every login event).
    pub action: Option<String>,
    /// Entries by this user name (as actor or approver).
    pub actor: Option<String>,
    /// From this time on.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this time.
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A practice's entries matching `filter`, newest first.
pub async fn list(
    platform: &Platform,
    scope: Scope,
    filter: &Filter,
    after: Option<crate::Cursor>,
    limit: u64,
) -> DomainResult<crate::Page<activity::Model>> {
    // Scoped here: ExprTrait's `min`/`max` shadow `Ord`'s on integers.
    use sea_orm::sea_query::ExprTrait as _;
    let mut query = activity::Entity::find().filter(activity::Column::PracticeId.eq(scope.practice_id));
    if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        query = query.filter(activity::Column::Action.starts_with(action));
    }
    if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        let actor = actor.trim().to_lowercase();
        query =
            query.filter(activity::Column::ActorName.eq(actor.clone()).or(activity::Column::ApproverName.eq(actor)));
    }
    if let Some(from) = filter.from {
        query = query.filter(activity::Column::OccurredAt.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(activity::Column::OccurredAt.lt(until));
    }
    let keyset = (activity::Column::OccurredAt, activity::Column::Id);
    let key = |row: &activity::Model| Some(crate::Cursor { created_at: row.occurred_at, id: row.id });
    crate::db::paging::newest_first(&platform.db, query, keyset, after, limit, key).await
}

/// Every entry matching `filter`, as CSV (oldest last, like the list). The
/// export is itself an entry, made first, so it is in the file it writes.
pub async fn export_csv(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    filter: &Filter,
) -> DomainResult<String> {
    record_export(platform, scope, who, origin, "export.activity_log").await?;
    let mut csv = SpreadsheetCsv::new([
        "occurred_at",
        "actor",
        "approver",
        "action",
        "target_type",
        "target_id",
        "ip",
        "request_id",
        "detail",
    ])?;
    let mut after = None;
    loop {
        let page = list(platform, scope, filter, after, 500).await?;
        for entry in &page.items {
            csv.row([
                entry.occurred_at.to_rfc3339(),
                entry.actor_name.clone(),
                entry.approver_name.clone().unwrap_or_default(),
                entry.action.clone(),
                entry.target_type.clone().unwrap_or_default(),
                entry.target_id.clone().unwrap_or_default(),
                entry.ip.clone().unwrap_or_default(),
                entry.request_id.clone().unwrap_or_default(),
                entry.detail.as_ref().map(ToString::to_string).unwrap_or_default(),
            ])?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    csv.finish()
}

/// Logs that `who` made an export (`action` names it, e.g. `export.users`):
/// every file of the practice's data that leaves the dashboard is on the log.
pub async fn record_export(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    action: &'static str,
) -> DomainResult<()> {
    let entry = Entry::authorized(action, who, origin);
    entry.record(&platform.db, platform, scope).await
}
