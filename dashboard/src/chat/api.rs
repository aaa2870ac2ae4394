//! Conversations in the staff API: the inbox, messages, pictures, read marks,
//! assignment.

use petbridge_domain::{
    Cursor, Platform,
    chat::{
        attachments,
        conversations::{self, Author, ConversationChange, InboxFilter, NewMessage, Side},
    },
    db::entities::conversation,
    kernel::{paging::page_limit, permissions::Permission},
};
use petbridge_http::{
    ApiResult,
    fields::{PageSize, Stored},
    pictures::{Picture, PictureUpload},
};
use petbridge_realtime::chat::{
    ChatMessageView, ConversationView, MessagePage, NewChatMessage, ReadMark, Sent, Uploaded,
};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::MaybeUndefined,
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// Which conversations the inbox lists by assignee.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Assignee {
    /// Assigned to the caller.
    Me,
    /// Assigned to nobody.
    Nobody,
}

/// One line of the inbox.
#[derive(Debug, Object)]
pub struct InboxItem {
    /// The conversation; `unread` counts what the practice has not read.
    pub conversation: ConversationView,
    /// The household's name.
    pub client_name: String,
    /// The practice keeps a personal note about the household (show its icon).
    pub has_personal_note: bool,
    /// The last message.
    pub last_message: Option<ChatMessageView>,
}

/// A page of the inbox, latest message first.
#[derive(Debug, Object)]
pub struct InboxPage {
    /// The conversations.
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page; none on the last.
    pub next: Option<String>,
}

/// A change to a conversation; fields left out stay as they are.
#[derive(Debug, Object)]
pub struct ConversationPatch {
    /// Close or reopen it.
    pub status: Option<Stored<conversation::Status>>,
    /// Assign it to a staff member; `null` unassigns it.
    pub assigned_to: MaybeUndefined<Uuid>,
}

/// This feature's operations of the staff API.
pub struct ChatApi;

#[OpenApi]
impl ChatApi {
    /// The practice's inbox: conversations with messages, latest first, with unread counts.
    #[oai(path = "/conversations", method = "get", tag = "Tag::Chat", operation_id = "listConversations")]
    async fn inbox(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        status: Query<Option<Stored<conversation::Status>>>,
        assigned: Query<Option<Assignee>>,
        after: Query<Option<String>>,
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<InboxPage>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let principal = auth.principal();
        let filter = InboxFilter {
            status: status.0.map(|s| s.0),
            assigned_to: matches!(assigned.0, Some(Assignee::Me)).then_some(principal.staff_id),
            unassigned: matches!(assigned.0, Some(Assignee::Nobody)),
        };
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page = conversations::inbox(
            &platform,
            principal.scope(),
            &filter,
            after,
            page_limit(limit.0.as_deref().copied())?,
        )
        .await?;
        let last_messages: Vec<_> = page.items.iter().filter_map(|entry| entry.last_message.clone()).collect();
        let names = conversations::author_names(&platform, &last_messages).await?;
        Ok(Json(InboxPage {
            items: page
                .items
                .into_iter()
                .map(|entry| InboxItem {
                    last_message: entry.last_message.map(|m| {
                        let name = names.get(&m.id).cloned().unwrap_or_default();
                        ChatMessageView::new(m, name)
                    }),
                    client_name: entry.client_name,
                    has_personal_note: entry.has_personal_note,
                    conversation: ConversationView::new(entry.conversation, true),
                })
                .collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }
    /// Start (or find) the conversation with a client.
    #[oai(path = "/clients/:id/conversation", method = "post", tag = "Tag::Chat", operation_id = "startConversation")]
    async fn start(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ConversationView>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let conversation = conversations::open(&platform, auth.principal().scope(), id.0).await?;
        Ok(Json(ConversationView::new(conversation, true)))
    }
    /// One conversation.
    #[oai(path = "/conversations/:id", method = "get", tag = "Tag::Chat", operation_id = "getConversationById")]
    async fn get(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ConversationView>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let conversation = conversations::get(&platform, auth.principal().scope(), id.0).await?;
        Ok(Json(ConversationView::new(conversation, true)))
    }
    /// Messages of a conversation: newest first, scrolling back with
    /// `before_seq`; or oldest first after `after_seq`.
    #[oai(
        path = "/conversations/:id/messages",
        method = "get",
        tag = "Tag::Chat",
        operation_id = "listConversationMessages"
    )]
    async fn messages(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        before_seq: Query<Option<i64>>,
        after_seq: Query<Option<i64>>,
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<MessagePage>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let conversation = conversations::get(&platform, auth.principal().scope(), id.0).await?;
        let limit = limit.0.as_deref().copied();
        Ok(Json(MessagePage::read(&platform, conversation.id, before_seq.0, after_seq.0, limit).await?))
    }
    /// Answer in a conversation. Retrying with the same `client_message_id`
    /// returns the stored message (200). An owner who has not read it within
    /// 15 seconds gets a push notification.
    #[oai(
        path = "/conversations/:id/messages",
        method = "post",
        tag = "Tag::Chat",
        operation_id = "answerConversation"
    )]
    async fn send(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewChatMessage>,
    ) -> ApiResult<Sent> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let principal = auth.principal();
        let conversation = conversations::get(&platform, principal.scope(), id.0).await?;
        let new = NewMessage {
            author: Author::Staff(principal.staff_id),
            channel: "app",
            client_message_id: Some(body.0.client_message_id),
            body: body.0.body.into_inner(),
            attachment_id: body.0.attachment_id,
        };
        let appended = conversations::send(&platform, principal.scope(), conversation.client_id, new).await?;
        let view = ChatMessageView::new(appended.message, appended.author_name);
        Ok(Sent::of(view, appended.replayed))
    }
    /// Upload a picture (JPEG, PNG or WebP, checked from the bytes) to send
    /// in a conversation. It is stored re-encoded, without EXIF or GPS data.
    #[oai(
        path = "/conversations/:id/attachments",
        method = "post",
        tag = "Tag::Chat",
        operation_id = "uploadConversationAttachment"
    )]
    async fn upload(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: PictureUpload,
    ) -> ApiResult<Uploaded> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let principal = auth.principal();
        let conversation = conversations::get(&platform, principal.scope(), id.0).await?;
        let author = Author::Staff(principal.staff_id);
        let stored =
            attachments::upload(&platform, principal.scope(), &conversation, author, body.into_bytes()).await?;
        Ok(Uploaded::Created(Json(stored.into())))
    }
    /// A picture sent in a conversation.
    #[oai(
        path = "/conversations/:id/attachments/:attachment_id",
        method = "get",
        tag = "Tag::Chat",
        operation_id = "getConversationAttachment"
    )]
    async fn attachment(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        attachment_id: Path<Uuid>,
    ) -> ApiResult<Picture> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let (_, bytes) = attachments::fetch(&platform, auth.principal().scope(), id.0, attachment_id.0).await?;
        Ok(Picture::private(bytes, 86_400))
    }
    /// Mark a conversation read by the practice up to `seq`.
    #[oai(
        path = "/conversations/:id/read",
        method = "post",
        tag = "Tag::Chat",
        operation_id = "markConversationReadByStaff"
    )]
    async fn read(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<ReadMark>,
    ) -> ApiResult<Json<ConversationView>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let scope = auth.principal().scope();
        let conversation = conversations::mark_read(&platform, scope, id.0, Side::Staff, body.0.seq).await?;
        Ok(Json(ConversationView::new(conversation, true)))
    }
    /// Close, reopen or assign a conversation.
    #[oai(path = "/conversations/:id", method = "patch", tag = "Tag::Chat", operation_id = "updateConversation")]
    async fn update(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<ConversationPatch>,
    ) -> ApiResult<Json<ConversationView>> {
        authorize(&platform, &auth, Permission::ChatView).await?;
        let change = ConversationChange {
            status: body.0.status.map(|s| s.0),
            assigned_to: match body.0.assigned_to {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(id)),
            },
        };
        let conversation = conversations::update(&platform, auth.principal().scope(), id.0, change).await?;
        Ok(Json(ConversationView::new(conversation, true)))
    }
}
