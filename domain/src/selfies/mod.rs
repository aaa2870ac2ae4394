//! Selfies owners send from the app. An upload is checked from its bytes,
//! re-encoded (no EXIF or GPS data survives) no larger than [`MAX_SIDE`],
//! given a square thumbnail, and stored through Storage. Staff star one for
//! the household's home-screen slideshow and heart one as a favourite picture
//! for push notifications. Only the household and its practice reach them.

use bytes::Bytes;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{pet, selfie},
    deliveries::links::{self, LinkPurpose},
    kernel::images,
};

/// The longest side a stored selfie keeps.
pub const MAX_SIDE: u32 = 2048;
/// The side of a selfie's square thumbnail.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The most selfies a household keeps; one more is refused (409
/// `too_many_selfies`) until the owner deletes some.
pub const MAX_PER_HOUSEHOLD: u64 = 500;

/// Stores a selfie of the household, optionally of one of its pets.
pub async fn upload(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    pet_id: Option<Uuid>,
    upload: Bytes,
) -> DomainResult<selfie::Model> {
    if let Some(pet_id) = pet_id {
        pet::Entity::find_by_id(pet_id)
            .filter(pet::Column::ClientId.eq(client_id))
            .filter(pet::Column::PracticeId.eq(scope.practice_id))
            .one(&platform.db)
            .await?
            .ok_or_else(|| DomainError::with(Code::UnknownPet, "that pet is not in this household"))?;
    }
    let count = selfie::Entity::find().filter(selfie::Column::ClientId.eq(client_id)).count(&platform.db).await?;
    if count >= MAX_PER_HOUSEHOLD {
        return Err(DomainError::from(Code::TooManySelfies));
    }
    let (photo, thumbnail) =
        tokio::task::spawn_blocking(move || images::photo_with_thumbnail(&upload, MAX_SIDE, THUMBNAIL_SIDE))
            .await
            .map_err(DomainError::unexpected)??;
    let id = Uuid::new_v4();
    let base = format!("practices/{}/selfies/{}/{}", scope.practice_id, client_id, id.simple());
    let (storage_key, thumbnail_key) = (format!("{base}.jpg"), format!("{base}-thumb.jpg"));
    let size_bytes = photo.bytes.len() as i64;
    platform.storage.put(&storage_key, photo.bytes).await?;
    platform.storage.put(&thumbnail_key, thumbnail).await?;
    let row = selfie::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        pet_id: Set(pet_id),
        storage_key: Set(storage_key.clone()),
        thumbnail_key: Set(thumbnail_key.clone()),
        width: Set(i32::try_from(photo.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(photo.height).unwrap_or(i32::MAX)),
        size_bytes: Set(size_bytes),
        starred_at: Set(None),
        hearted_at: Set(None),
        created_at: Set(platform.clock.now()),
    };
    match selfie::Entity::insert(row).exec_with_returning(&platform.db).await {
        Ok(stored) => Ok(stored),
        Err(err) => {
            // Nothing points at the files; do not leave them behind.
            let _ = platform.storage.delete(&storage_key).await;
            let _ = platform.storage.delete(&thumbnail_key).await;
            Err(err.into())
        }
    }
}

/// A household's selfies, newest first.
pub async fn of_household(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Vec<selfie::Model>> {
    Ok(selfie::Entity::find()
        .filter(selfie::Column::ClientId.eq(client_id))
        .filter(selfie::Column::PracticeId.eq(scope.practice_id))
        .order_by_desc(selfie::Column::CreatedAt)
        .limit(MAX_PER_HOUSEHOLD)
        .all(&platform.db)
        .await?)
}

/// The household's home-screen slideshow: the selfies staff starred, most
/// recently starred first.
pub async fn slideshow(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Vec<selfie::Model>> {
    Ok(selfie::Entity::find()
        .filter(selfie::Column::ClientId.eq(client_id))
        .filter(selfie::Column::PracticeId.eq(scope.practice_id))
        .filter(selfie::Column::StarredAt.is_not_null())
        .order_by_desc(selfie::Column::StarredAt)
        .all(&platform.db)
        .await?)
}

/// One selfie of the practice; with `client_id`, only of that household.
pub async fn get(platform: &Platform, scope: Scope, client_id: Option<Uuid>, id: Uuid) -> DomainResult<selfie::Model> {
    let mut query = selfie::Entity::find_by_id(id).filter(selfie::Column::PracticeId.eq(scope.practice_id));
    if let Some(client_id) = client_id {
        query = query.filter(selfie::Column::ClientId.eq(client_id));
    }
    query.one(&platform.db).await?.ok_or(DomainError::NotFound)
}

/// Which picture of a selfie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The photo.
    Full,
    /// Its square thumbnail.
    Thumbnail,
}

/// The JPEG of a selfie.
pub async fn picture(platform: &Platform, found: &selfie::Model, size: Size) -> DomainResult<Bytes> {
    let key = match size {
        Size::Full => &found.storage_key,
        Size::Thumbnail => &found.thumbnail_key,
    };
    platform.storage.get(key).await
}

/// The owner deletes one of the household's selfies (files included).
pub async fn delete(platform: &Platform, scope: Scope, client_id: Uuid, id: Uuid) -> DomainResult<()> {
    let found = get(platform, scope, Some(client_id), id).await?;
    selfie::Entity::delete_by_id(found.id).exec(&platform.db).await?;
    // The row is gone first: a file left behind is unreachable, never a dangling row.
    for key in [&found.storage_key, &found.thumbnail_key] {
        if let Err(err) = platform.storage.delete(key).await {
            tracing::warn!(error = %err, "a deleted selfie's file stayed in storage");
        }
    }
    Ok(())
}

/// How staff mark a selfie; what is left out stays.
#[derive(Debug, Clone, Copy, Default)]
pub struct Marks {
    /// In the home-screen slideshow.
    pub starred: Option<bool>,
    /// A favourite for push notifications.
    pub hearted: Option<bool>,
}

/// Staff star or heart a selfie (or take the mark off).
pub async fn mark(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    marks: Marks,
) -> DomainResult<selfie::Model> {
    let found = get(platform, scope, None, id).await?;
    let now = platform.clock.now();
    let set = |wanted: Option<bool>, current: Option<chrono::DateTime<chrono::Utc>>| match wanted {
        Some(true) => current.or(Some(now)),
        Some(false) => None,
        None => current,
    };
    let starred_at = set(marks.starred, found.starred_at);
    let hearted_at = set(marks.hearted, found.hearted_at);
    if (starred_at, hearted_at) == (found.starred_at, found.hearted_at) {
        return Ok(found);
    }
    let client_id = found.client_id;
    let txn = platform.begin_write().await?;
    let mut active = found.into_active_model();
    active.starred_at = Set(starred_at);
    active.hearted_at = Set(hearted_at);
    let row = active.update(&txn).await?;
    let log = Entry::new("selfie.marked", actor, origin).target("client", client_id).detail(serde_json::json!({
        "selfie_id": row.id, "starred": row.starred_at.is_some(), "hearted": row.hearted_at.is_some()
    }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(row)
}

/// The public address of a household's favourite (hearted) selfie, for a
/// notification's picture: push services fetch it without a login. It
/// stops working when staff take the heart off.
pub async fn favourite_link(platform: &Platform, scope: Scope, client_id: Uuid, id: Uuid) -> DomainResult<String> {
    let found = match get(platform, scope, Some(client_id), id).await {
        Err(DomainError::NotFound) => {
            return Err(DomainError::with(Code::UnknownSelfie, "that selfie is not this household's"));
        }
        other => other?,
    };
    if found.hearted_at.is_none() {
        return Err(DomainError::with(Code::SelfieNotFavourite, "heart the selfie before attaching it"));
    }
    favourite_url(platform, &links::link_key(platform).await?, found.id)
}

/// The public address of a selfie's photo, signed with the link key `key`.
pub fn favourite_url(platform: &Platform, key: &[u8], id: Uuid) -> DomainResult<String> {
    let token = links::token(key, LinkPurpose::FavouriteSelfie, id)?;
    Ok(platform.link(&format!("/media/selfies/{token}.jpg")))
}

/// The photo a favourite-selfie link opens, while the selfie is hearted;
/// `NotFound` for a forged link or one whose heart was taken off.
pub async fn favourite_photo(platform: &Platform, token: &str) -> DomainResult<Bytes> {
    let id = links::verify(platform, LinkPurpose::FavouriteSelfie, token).await?;
    let found = selfie::Entity::find_by_id(id).one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    if found.hearted_at.is_none() {
        return Err(DomainError::NotFound);
    }
    picture(platform, &found, Size::Full).await
}
