//! Pictures sent in a conversation. An upload is checked from its bytes,
//! re-encoded as a JPEG (which drops EXIF and GPS data) no larger than
//! [`MAX_SIDE`], stored through Storage, and recorded against its
//! conversation; a message then names it by id. Only the conversation's two
//! sides can fetch it: everyone else gets `NotFound`.

use bytes::Bytes;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Platform, Scope,
    chat::conversations::Author,
    db::entities::{attachment, conversation},
    kernel::images,
};

/// The longest side a stored picture keeps.
pub const MAX_SIDE: u32 = 2048;

/// Stores a picture for `conversation`, ready to be sent with a message.
pub async fn upload(
    platform: &Platform,
    scope: Scope,
    conversation: &conversation::Model,
    author: Author,
    upload: Bytes,
) -> DomainResult<attachment::Model> {
    if conversation.practice_id != scope.practice_id {
        return Err(DomainError::NotFound);
    }
    let picture = tokio::task::spawn_blocking(move || images::bounded_jpeg(&upload, MAX_SIDE))
        .await
        .map_err(DomainError::unexpected)??;
    let id = Uuid::new_v4();
    let storage_key = format!("practices/{}/conversations/{}/{}.jpg", scope.practice_id, conversation.id, id.simple());
    let size_bytes = picture.bytes.len() as i64;
    platform.storage.put(&storage_key, picture.bytes).await?;
    let row = attachment::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        conversation_id: Set(conversation.id),
        storage_key: Set(storage_key.clone()),
        content_type: Set("image/jpeg".into()),
        size_bytes: Set(size_bytes),
        width: Set(i32::try_from(picture.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(picture.height).unwrap_or(i32::MAX)),
        uploaded_by: Set(match author {
            Author::Owner => "owner".to_owned(),
            Author::Staff(staff_id) => staff_id.to_string(),
        }),
        created_at: Set(platform.clock.now()),
    };
    match attachment::Entity::insert(row).exec_with_returning(&platform.db).await {
        Ok(stored) => Ok(stored),
        Err(err) => {
            // Nothing points at the file; do not leave it behind.
            let _ = platform.storage.delete(&storage_key).await;
            Err(err.into())
        }
    }
}

/// A picture of `conversation_id` and its bytes.
pub async fn fetch(
    platform: &Platform,
    scope: Scope,
    conversation_id: Uuid,
    attachment_id: Uuid,
) -> DomainResult<(attachment::Model, Bytes)> {
    let found = attachment::Entity::find_by_id(attachment_id)
        .filter(attachment::Column::ConversationId.eq(conversation_id))
        .filter(attachment::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let bytes = platform.storage.get(&found.storage_key).await?;
    Ok((found, bytes))
}
