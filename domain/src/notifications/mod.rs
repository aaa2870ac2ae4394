//! One-way notifications from the practice ("Send notification" and
//! "Contact" in the dashboard): kept in the household's inbox, which the app
//! lists and marks read, and pushed to each of its devices.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Actor, Code, Cursor, DomainError, DomainResult, Origin, Page, Platform, Scope,
    activity::Entry,
    db::entities::{client, delivery::SEALED, notification, owner_account},
    deliveries::{
        links,
        outbox::{self, Purpose, PushMessage},
    },
    selfies,
};

/// The longest notification title…
pub const MAX_TITLE_CHARS: usize = 120;

/// …and text.
pub const MAX_BODY_CHARS: usize = 2_000;

/// A notification to send.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// Its title (1 to 120 characters).
    pub title: String,
    /// Its text (1 to 2,000 characters).
    pub body: String,
    /// A picture to show with it (an `https` URL).
    pub image_url: Option<String>,
    /// Or a selfie of the household that staff hearted as a favourite: the
    /// notification shows it through a signed public link.
    pub selfie_id: Option<Uuid>,
}

impl NewNotification {
    fn check(&self) -> DomainResult<()> {
        let title = self.title.trim().chars().count();
        let body = self.body.trim().chars().count();
        if !(1..=MAX_TITLE_CHARS).contains(&title) || !(1..=MAX_BODY_CHARS).contains(&body) {
            return Err(DomainError::with(
                Code::InvalidNotification,
                "a notification has a title of 1 to 120 characters and a text of 1 to 2,000",
            ));
        }
        if self.image_url.as_ref().is_some_and(|url| !url.starts_with("https://") || url.len() > 2_000) {
            return Err(DomainError::with(Code::InvalidImageUrl, "a notification's picture is an https URL"));
        }
        if self.image_url.is_some() && self.selfie_id.is_some() {
            return Err(DomainError::with(Code::OnePicture, "a notification shows one picture: a URL or a selfie"));
        }
        Ok(())
    }
}

/// Stores a notification in the household's inbox and pushes it to each of
/// its app accounts' devices; logged as `client.notified`.
pub async fn send(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    client_id: Uuid,
    new: NewNotification,
) -> DomainResult<notification::Model> {
    new.check()?;
    let household = client::Entity::find_by_id(client_id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    // Before the write transaction: a selfie that is not a favourite is
    // refused with nothing begun, and the link key is made (on its first
    // use) on its own connection, not while this one holds the write lock.
    if let Some(selfie_id) = new.selfie_id {
        selfies::favourite_link(platform, scope, household.id, selfie_id).await?;
    }
    let txn = platform.begin_write().await?;
    let stored =
        deliver(&txn, platform, scope, household.id, &new, actor.id, format!("notification from {}", actor.name))
            .await?;
    let entry = Entry::new("client.notified", actor, origin)
        .target("client", household.id)
        .detail(serde_json::json!({ "notification_id": stored.id, "title": stored.title }));
    entry.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(stored)
}

/// Stores a checked notification in a household's inbox and queues a push to
/// each of its enabled app accounts, in the caller's transaction (a decision
/// on a reward or an order tells the owner this way, with the change).
pub(crate) async fn deliver(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    household_id: Uuid,
    new: &NewNotification,
    sent_by: Option<Uuid>,
    reason: String,
) -> DomainResult<notification::Model> {
    let stored = notification::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(household_id),
        title: Set(new.title.trim().to_owned()),
        body: Set(new.body.trim().to_owned()),
        image_url: Set(new.image_url.clone()),
        selfie_id: Set(new.selfie_id),
        sent_by: Set(sent_by),
        read_at: Set(None),
        created_at: Set(platform.clock.now()),
    };
    let stored = notification::Entity::insert(stored).exec_with_returning(conn).await?;
    // The selfie's public link opens its photo: only the recipient's device sees it.
    let sealed = match stored.selfie_id {
        Some(selfie_id) => Some(selfies::favourite_link(platform, scope, household_id, selfie_id).await?),
        None => None,
    };
    let image_url = if sealed.is_some() { Some(SEALED.to_owned()) } else { stored.image_url.clone() };
    let accounts = owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(household_id))
        .filter(owner_account::Column::DisabledAt.is_null())
        .all(conn)
        .await?;
    for account in accounts {
        let mut data = serde_json::Map::new();
        data.insert("kind".into(), "notification".into());
        data.insert("notification_id".into(), stored.id.to_string().into());
        let push = PushMessage {
            title: stored.title.clone(),
            body: stored.body.clone(),
            data,
            image_url: image_url.clone(),
            reason: reason.clone(),
            purpose: Purpose::Notification,
            not_before: None,
            sealed: sealed.clone(),
        };
        outbox::enqueue_push(conn, platform, scope, account.id, push).await?;
    }
    Ok(stored)
}

/// A household's notifications, newest first.
pub async fn inbox(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    after: Option<Cursor>,
    limit: u64,
) -> DomainResult<Page<notification::Model>> {
    // Another practice's household: 404, like every lookup outside the scope.
    client::Entity::find_by_id(client_id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let query = notification::Entity::find()
        .filter(notification::Column::PracticeId.eq(scope.practice_id))
        .filter(notification::Column::ClientId.eq(client_id));
    let keyset = (notification::Column::CreatedAt, notification::Column::Id);
    let key = |row: &notification::Model| Some(Cursor { created_at: row.created_at, id: row.id });
    crate::db::paging::newest_first(&platform.db, query, keyset, after, limit, key).await
}

/// The household's own view of its notifications: a favourite selfie's
/// picture as the signed link the app opens (made here, never stored).
pub async fn for_owner(
    platform: &Platform,
    mut items: Vec<notification::Model>,
) -> DomainResult<Vec<notification::Model>> {
    if items.iter().all(|n| n.selfie_id.is_none()) {
        return Ok(items);
    }
    let key = links::link_key(platform).await?;
    for item in &mut items {
        if let Some(selfie_id) = item.selfie_id {
            item.image_url = Some(selfies::favourite_url(platform, &key, selfie_id)?);
        }
    }
    Ok(items)
}

/// Marks one of the household's notifications read (once; later calls keep the first time).
pub async fn mark_read(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    id: Uuid,
) -> DomainResult<notification::Model> {
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::PracticeId.eq(scope.practice_id))
        .filter(notification::Column::ClientId.eq(client_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    if found.read_at.is_some() {
        return Ok(found);
    }
    let mut row: notification::ActiveModel = found.into();
    row.read_at = Set(Some(platform.clock.now()));
    Ok(sea_orm::ActiveModelTrait::update(row, &platform.db).await?)
}
