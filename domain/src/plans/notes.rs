//! Notes on a plan (PLANS.md A10): any staff member adds one; only
//! administrators edit or delete them, and the activity log keeps what a
//! note said before.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{plan, plan_note},
    kernel::caller::Authorized,
};

/// The longest note.
pub const MAX_NOTE_CHARS: usize = 2_000;

fn checked(body: &str) -> DomainResult<String> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_NOTE_CHARS {
        return Err(DomainError::with(Code::InvalidBody, "a note has 1 to 2,000 characters"));
    }
    Ok(body.to_owned())
}

/// The notes of a plan, oldest first.
pub(crate) async fn of_plan(conn: &impl ConnectionTrait, plan_id: Uuid) -> DomainResult<Vec<plan_note::Model>> {
    Ok(plan_note::Entity::find()
        .filter(plan_note::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_note::Column::CreatedAt)
        .order_by_asc(plan_note::Column::Id)
        .all(conn)
        .await?)
}

/// Adds a note to plan `plan_id` of the practice.
pub async fn add(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    plan_id: Uuid,
    body: &str,
) -> DomainResult<plan_note::Model> {
    let body = checked(body)?;
    let txn = platform.begin_write().await?;
    plan::Entity::find_by_id(plan_id)
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let note = plan_note::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        plan_id: Set(plan_id),
        body: Set(body),
        author_id: Set(who.actor.id),
        author: Set(who.actor.name.clone()),
        created_at: Set(platform.clock.now()),
        edited_by: Set(None),
        edited_at: Set(None),
    }
    .insert(&txn)
    .await?;
    Entry::authorized("plan.note_add", who, origin)
        .target("plan", plan_id)
        .detail(serde_json::json!({ "note": note.id }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(note)
}

/// Rewrites note `id`; the log keeps the words it replaced.
pub async fn edit(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    body: &str,
) -> DomainResult<plan_note::Model> {
    let body = checked(body)?;
    let txn = platform.begin_write().await?;
    let note = find(&txn, scope, id).await?;
    let before = note.body.clone();
    let mut changed: plan_note::ActiveModel = note.into();
    changed.body = Set(body);
    changed.edited_by = Set(Some(who.actor.name.clone()));
    changed.edited_at = Set(Some(platform.clock.now()));
    let note = changed.update(&txn).await?;
    Entry::authorized("plan.note_edit", who, origin)
        .target("plan", note.plan_id)
        .detail(serde_json::json!({ "note": note.id, "before": before }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(note)
}

/// Deletes note `id`; the log keeps what it said.
pub async fn delete(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    let note = find(&txn, scope, id).await?;
    plan_note::Entity::delete_by_id(note.id).exec(&txn).await?;
    Entry::authorized("plan.note_delete", who, origin)
        .target("plan", note.plan_id)
        .detail(serde_json::json!({ "note": note.id, "author": note.author, "said": note.body }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(())
}

async fn find(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<plan_note::Model> {
    plan_note::Entity::find_by_id(id)
        .filter(plan_note::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}
