//! Chat payloads both APIs share: messages, conversations, sends, read marks
//! and notifications. The socket frames carry the same fields (see
//! `docs/chat-protocol.md`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use petbridge_domain::db::entities::{attachment, conversation, message, notification};
use petbridge_domain::{DomainResult, Platform, chat::conversations, kernel::paging::page_limit};
use petbridge_http::fields::{Stored, Text};
use poem_openapi::{ApiResponse, Object, payload::Json};
use uuid::Uuid;

/// A chat message.
#[derive(Debug, Clone, Object)]
pub struct ChatMessageView {
    /// The message.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Its number in the conversation, from 1, without gaps.
    pub seq: i64,
    /// `owner` or `staff`.
    pub author: String,
    /// Who wrote it, as the other side sees them.
    pub author_name: String,
    /// `app` or `sms` (a text from the owner's phone).
    pub channel: String,
    /// The sender's own id for it.
    pub client_message_id: Option<String>,
    /// The text; empty when only a picture was sent.
    pub body: String,
    /// A picture sent with it (fetch it from the conversation's attachments).
    pub attachment_id: Option<Uuid>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

impl ChatMessageView {
    /// The view of each stored message, with the author names looked up once.
    pub fn list(messages: Vec<message::Model>, names: &HashMap<Uuid, String>) -> Vec<Self> {
        messages
            .into_iter()
            .map(|m| {
                let author_name = names.get(&m.id).cloned().unwrap_or_default();
                Self::new(m, author_name)
            })
            .collect()
    }

    /// The view of one stored message.
    pub fn new(m: message::Model, author_name: String) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            seq: m.seq,
            author: m.author,
            author_name,
            channel: m.channel,
            client_message_id: m.client_message_id,
            body: m.body,
            attachment_id: m.attachment_id,
            created_at: m.created_at,
        }
    }
}

/// A page of messages.
#[derive(Debug, Object)]
pub struct MessagePage {
    /// Newest first with `before_seq` (or neither); oldest first with `after_seq`.
    pub items: Vec<ChatMessageView>,
    /// Pass as `before_seq` (or `after_seq`, as asked) for the next page; none on the last.
    pub next_seq: Option<i64>,
}

impl MessagePage {
    /// A page of `conversation_id`'s history, as both APIs read it.
    pub async fn read(
        platform: &Platform,
        conversation_id: Uuid,
        before_seq: Option<i64>,
        after_seq: Option<i64>,
        limit: Option<u32>,
    ) -> DomainResult<Self> {
        let page = conversations::history(platform, conversation_id, before_seq, after_seq, page_limit(limit)?).await?;
        Ok(Self { next_seq: page.next_seq, items: ChatMessageView::list(page.items, &page.names) })
    }
}

/// A conversation with the practice.
#[derive(Debug, Object)]
pub struct ConversationView {
    /// The conversation.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// Open or closed (a new message reopens it).
    pub status: Stored<conversation::Status>,
    /// The staff member it is assigned to.
    pub assigned_to: Option<Uuid>,
    /// The last message's seq (0 before the first).
    pub last_seq: i64,
    /// The last seq the owner read.
    pub owner_read_seq: i64,
    /// The last seq the practice read.
    pub staff_read_seq: i64,
    /// Messages the reader has not read yet.
    pub unread: i64,
    /// When the last message came.
    pub last_message_at: Option<DateTime<Utc>>,
}

impl ConversationView {
    /// The view for the owner (`for_staff` false) or the practice.
    pub fn new(c: conversation::Model, for_staff: bool) -> Self {
        let read = if for_staff { c.staff_read_seq } else { c.owner_read_seq };
        Self {
            id: c.id,
            client_id: c.client_id,
            status: c.status.into(),
            assigned_to: c.assigned_to,
            last_seq: c.last_seq,
            owner_read_seq: c.owner_read_seq,
            staff_read_seq: c.staff_read_seq,
            unread: (c.last_seq - read).max(0),
            last_message_at: c.last_message_at,
        }
    }
}

/// A message to send.
#[derive(Debug, Object)]
pub struct NewChatMessage {
    /// Your own id for it (1 to 100 characters): sending again with the same id
    /// returns the stored message instead of storing a second.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub client_message_id: String,
    /// The text (up to 4,000 characters; may be empty with a picture).
    #[oai(default)]
    pub body: Text<0, { conversations::MAX_BODY_CHARS }>,
    /// A picture uploaded to the conversation beforehand.
    pub attachment_id: Option<Uuid>,
}

/// A picture uploaded to a conversation, to send with a message.
#[derive(Debug, Object)]
pub struct AttachmentView {
    /// Name it as `attachment_id` in a message.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Always `image/jpeg`: pictures are re-encoded, without EXIF or GPS data.
    pub content_type: String,
    /// Its size.
    pub size_bytes: i64,
    /// Its width in pixels.
    pub width: i32,
    /// Its height in pixels.
    pub height: i32,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

impl From<attachment::Model> for AttachmentView {
    fn from(a: attachment::Model) -> Self {
        Self {
            id: a.id,
            conversation_id: a.conversation_id,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            width: a.width,
            height: a.height,
            created_at: a.created_at,
        }
    }
}

/// How far a reader has read.
#[derive(Debug, Object)]
pub struct ReadMark {
    /// The last message read.
    pub seq: i64,
}

/// A one-way notification from the practice.
#[derive(Debug, Object)]
pub struct NotificationView {
    /// The notification.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// A picture shown with it. For the app, a favourite selfie's signed
    /// link; staff see only `selfie_id`.
    pub image_url: Option<String>,
    /// The household's favourite selfie it shows, if it shows one.
    pub selfie_id: Option<Uuid>,
    /// When the owner read it.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

impl From<notification::Model> for NotificationView {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            title: n.title,
            body: n.body,
            image_url: n.image_url,
            selfie_id: n.selfie_id,
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

/// A page of notifications, newest first.
#[derive(Debug, Object)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<NotificationView>,
    /// Pass as `after` for the next page; none on the last.
    pub next: Option<String>,
}

/// A stored message, as sending one answers it.
#[derive(ApiResponse)]
pub enum Sent {
    /// Stored now.
    #[oai(status = 201)]
    Created(Json<ChatMessageView>),
    /// Stored before under the same `client_message_id`: the original.
    #[oai(status = 200)]
    Replayed(Json<ChatMessageView>),
}

impl Sent {
    /// The answer for `message`, stored now or (`replayed`) before.
    pub fn of(message: ChatMessageView, replayed: bool) -> Self {
        if replayed { Self::Replayed(Json(message)) } else { Self::Created(Json(message)) }
    }
}

/// A stored picture, as uploading one answers it.
#[derive(ApiResponse)]
pub enum Uploaded {
    /// Send it with a message by its id.
    #[oai(status = 201)]
    Created(Json<AttachmentView>),
}
