//! Reinvite All: once a month, a new invitation to every client with an
//! email who never joined; the campaigns job sends it.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{campaign, client},
    households::clients::{Audience, CHUNK, listed, queue_invitation, refresh_listings},
    kernel::practice::Practice,
    practices,
};

/// The campaign kind of Reinvite All.
pub(crate) const REINVITE_ALL: &str = "reinvite_all";

/// What Reinvite All did.
#[derive(Debug, Clone, Copy)]
pub struct ReinviteOutcome {
    /// Invitations queued.
    pub invited: u32,
    /// The first day it may run again.
    pub next_allowed_on: NaiveDate,
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

/// Emails an invitation to every listed client with an email who has not
/// downloaded the app; at most once per calendar month per practice.
pub async fn reinvite_all(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
) -> DomainResult<ReinviteOutcome> {
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let today = practice.today(now);
    let period = format!("{:04}-{:02}", today.year(), today.month());
    let next_allowed_on = first_of_next_month(today);
    let already = || {
        DomainError::with(
            Code::ReinviteAlreadySent,
            format!("Reinvite All was sent this month; it can be sent again from {next_allowed_on}"),
        )
    };
    let txn = platform.begin_write().await?;
    if campaign::Entity::find()
        .filter(campaign::Column::PracticeId.eq(scope.practice_id))
        .filter(campaign::Column::Kind.eq(REINVITE_ALL))
        .filter(campaign::Column::Period.eq(period.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(already());
    }
    let invited = reinvite_recipients(&practice, now).count(&txn).await?;
    let invited = u32::try_from(invited).unwrap_or(u32::MAX);
    // The unique (practice, kind, period) index turns a concurrent second run into a conflict.
    let claimed = campaign::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        kind: Set(REINVITE_ALL.to_owned()),
        period: Set(period),
        sent_at: Set(now),
        recipients: Set(i32::try_from(invited).unwrap_or(i32::MAX)),
        title: Set(None),
        body: Set(None),
        run_at: Set(Some(now)),
        done_at: Set(None),
        created_by: Set(Some(actor.name.clone())),
    }
    .insert(&txn)
    .await;
    if claimed.is_err() {
        return Err(already());
    }
    Entry::new("client.reinvite_all", actor, origin)
        .detail(serde_json::json!({ "invited": invited }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(ReinviteOutcome { invited, next_allowed_on })
}

/// Who Reinvite All invites: listed clients active in the PMS, with an
/// email, who have not downloaded the app.
fn reinvite_recipients(practice: &Practice, now: DateTime<Utc>) -> sea_orm::Select<client::Entity> {
    client::Entity::find()
        .filter(listed(practice, now, Audience::All))
        .filter(client::Column::AccountStatus.is_in([client::AccountStatus::NoAccount, client::AccountStatus::Invited]))
        .filter(client::Column::Email.is_not_null())
        .filter(client::Column::PmsActive.eq(true))
}

/// Queues the invitations of a Reinvite All campaign (the campaigns job
/// runs it); returns how many.
pub(crate) async fn queue_reinvitations(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    campaign: &campaign::Model,
) -> DomainResult<u32> {
    let now = platform.clock.now();
    let scope = Scope { practice_id: practice.id };
    let recipients = reinvite_recipients(practice, now).all(conn).await?;
    let by = campaign.created_by.as_deref().unwrap_or("the practice");
    let reason = format!("Reinvite All by {by}");
    for client in &recipients {
        if let Some(email) = &client.email {
            queue_invitation(conn, platform, scope, practice, client, email, reason.clone()).await?;
        }
    }
    let ids: Vec<Uuid> = recipients.iter().map(|c| c.id).collect();
    for chunk in ids.chunks(CHUNK) {
        client::Entity::update_many()
            .col_expr(client::Column::InvitedAt, Expr::value(now))
            .filter(client::Column::Id.is_in(chunk.to_vec()))
            .filter(client::Column::InvitedAt.is_null())
            .exec(conn)
            .await?;
    }
    refresh_listings(conn, platform, scope, &ids).await?;
    Ok(u32::try_from(recipients.len()).unwrap_or(u32::MAX))
}
