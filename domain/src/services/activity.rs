//! The activity log: append-only. This module has no update or delete on
//! purpose; entries are written in the same transaction as what they record.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{Actor, DomainResult, Origin, Platform, Scope, entities::activity};

/// What happened, to which record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// A stable dotted name, e.g. `auth.login`, `staff.create`.
    pub action: &'static str,
    /// The kind of record touched, e.g. `staff_user`.
    pub target_type: Option<&'static str>,
    /// Its id.
    pub target_id: Option<String>,
    /// Anything else worth keeping (never secrets).
    pub detail: Option<serde_json::Value>,
    /// Who did it.
    pub actor: &'a Actor,
    /// From where.
    pub origin: &'a Origin,
}

/// Appends one entry, on `conn` (usually the caller's transaction).
pub async fn record(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    entry: Entry<'_>,
) -> DomainResult<()> {
    activity::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        occurred_at: Set(platform.clock.now()),
        actor_id: Set(entry.actor.id),
        actor_name: Set(entry.actor.name.clone()),
        action: Set(entry.action.to_owned()),
        target_type: Set(entry.target_type.map(str::to_owned)),
        target_id: Set(entry.target_id),
        detail: Set(entry.detail),
        request_id: Set(entry.origin.request_id.clone()),
        ip: Set(entry.origin.ip.clone()),
    }
    .insert(conn)
    .await?;
    Ok(())
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
