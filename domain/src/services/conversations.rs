//! Conversations between a household and its practice. A message is stored
//! with the next seq of its conversation, in the caller's transaction; a
//! repeated send (same sender id) finds the stored message instead.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Platform, Scope,
    entities::{client, conversation, message},
};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// The owner (in the app, or by text).
    Owner,
    /// A staff member.
    Staff(Uuid),
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who wrote it.
    pub author: Author,
    /// How it arrived: `app` or `sms`.
    pub channel: &'static str,
    /// The sender's own id for it, to store a repeated send once.
    pub client_message_id: Option<String>,
    /// The text.
    pub body: String,
}

/// The household's conversation, made on first use.
pub async fn of_household(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
) -> DomainResult<conversation::Model> {
    client::Entity::find_by_id(client_id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let find = || conversation::Entity::find().filter(conversation::Column::ClientId.eq(client_id)).one(conn);
    if let Some(found) = find().await? {
        return Ok(found);
    }
    let row = conversation::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        status: Set("open".into()),
        assigned_to: Set(None),
        last_seq: Set(0),
        owner_read_seq: Set(0),
        staff_read_seq: Set(0),
        last_message_at: Set(None),
        created_at: Set(platform.clock.now()),
    };
    // Another request may make it first: then theirs is used.
    conversation::Entity::insert(row).on_conflict_do_nothing_on([conversation::Column::ClientId]).exec(conn).await?;
    find().await?.ok_or_else(|| DomainError::Unexpected("the conversation vanished".into()))
}

/// Stores a message in the household's conversation (reopening it) with the
/// next seq; returns it, or the one stored before under the same sender id.
pub async fn append(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    new: NewMessage,
) -> DomainResult<message::Model> {
    let body = new.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 4_000 {
        return Err(DomainError::invalid("invalid_message", "a message has 1 to 4,000 characters"));
    }
    let conversation = of_household(conn, platform, scope, client_id).await?;
    if let Some(sender_id) = &new.client_message_id {
        let earlier = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation.id))
            .filter(message::Column::ClientMessageId.eq(sender_id.as_str()))
            .one(conn)
            .await?;
        if let Some(earlier) = earlier {
            return Ok(earlier);
        }
    }
    let now = platform.clock.now();
    // The increment locks the conversation's row until the caller commits,
    // so concurrent sends take consecutive seqs.
    let read_column = match new.author {
        Author::Owner => conversation::Column::OwnerReadSeq,
        Author::Staff(_) => conversation::Column::StaffReadSeq,
    };
    conversation::Entity::update_many()
        .col_expr(conversation::Column::LastSeq, Expr::col(conversation::Column::LastSeq).add(1))
        .col_expr(read_column, Expr::col(conversation::Column::LastSeq).add(1))
        .col_expr(conversation::Column::LastMessageAt, Expr::value(now))
        .col_expr(conversation::Column::Status, Expr::value("open"))
        .filter(conversation::Column::Id.eq(conversation.id))
        .exec(conn)
        .await?;
    let seq = conversation::Entity::find_by_id(conversation.id)
        .one(conn)
        .await?
        .map(|c| c.last_seq)
        .ok_or_else(|| DomainError::Unexpected("the conversation vanished".into()))?;
    let stored = message::ActiveModel {
        id: Set(Uuid::new_v4()),
        conversation_id: Set(conversation.id),
        practice_id: Set(scope.practice_id),
        seq: Set(seq),
        author: Set(match new.author {
            Author::Owner => "owner".into(),
            Author::Staff(_) => "staff".into(),
        }),
        author_staff_id: Set(match new.author {
            Author::Staff(id) => Some(id),
            Author::Owner => None,
        }),
        channel: Set(new.channel.to_owned()),
        client_message_id: Set(new.client_message_id),
        body: Set(body),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(stored)
}

/// A conversation's messages after `after_seq`, in order (at most `limit`).
pub async fn messages_after(
    conn: &impl ConnectionTrait,
    conversation_id: Uuid,
    after_seq: i64,
    limit: u64,
) -> DomainResult<Vec<message::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(after_seq))
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?)
}
