//! Chat with the practice in the app API, and the socket (`/ws/app`) opened
//! with a one-time ticket.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    chat::{
        attachments,
        conversations::{self, Author, NewMessage, Side},
    },
    owners::{accounts, socket_tickets},
};
use petbridge_http::{
    ApiResult,
    fields::PageSize,
    pictures::{Picture, PictureUpload},
};
use petbridge_realtime::{
    chat::{ChatMessageView, ConversationView, MessagePage, NewChatMessage, ReadMark, Sent, Uploaded},
    socket::{self, Peer},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{auth::OwnerAuth, tags::Tag};

/// A ticket that opens the chat socket once.
#[derive(Debug, Object)]
pub struct SocketTicket {
    /// Open `/ws/app?ticket=…` with it before it expires.
    pub ticket: String,
    /// Unused by then, it no longer works.
    pub expires_at: DateTime<Utc>,
}

/// A new ticket.
#[derive(ApiResponse)]
enum TicketIssued {
    /// Use it within a minute.
    #[oai(status = 201)]
    Created(Json<SocketTicket>),
}

/// The query of the socket URL.
#[derive(Debug, serde::Deserialize)]
pub struct TicketParam {
    ticket: String,
}

/// Opens the owner's chat socket (`GET /ws/app?ticket=…`) with a ticket from
/// `POST /chat/tickets`; the frames are in `docs/chat-protocol.md`.
#[poem::handler]
pub async fn app_socket(
    ws: poem::web::websocket::WebSocket,
    platform: Data<&Platform>,
    params: poem::web::Query<TicketParam>,
) -> poem::Response {
    use poem::IntoResponse;
    match socket_tickets::redeem(&platform, &params.0.ticket).await {
        Ok(holder) => {
            let platform = platform.clone();
            ws.config(socket::socket_config())
                .on_upgrade(move |socket| socket::serve(socket, platform, Peer::Owner(holder)))
                .into_response()
        }
        Err(err) => petbridge_http::ApiError::from(err).into_response(),
    }
}

/// This feature's operations of the app API.
pub struct ChatApi;

#[OpenApi]
impl ChatApi {
    /// A one-time ticket for the realtime chat socket (`GET /ws/app?ticket=…`):
    /// the access token itself never travels in a URL.
    #[oai(path = "/chat/tickets", method = "post", tag = "Tag::Chat", operation_id = "createSocketTicket")]
    async fn ticket(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<TicketIssued> {
        auth.0.require_verified()?;
        let ticket = socket_tickets::issue(&platform, &auth.0).await?;
        Ok(TicketIssued::Created(Json(SocketTicket { ticket: ticket.ticket, expires_at: ticket.expires_at })))
    }
    /// The household's conversation with the practice.
    #[oai(path = "/conversation", method = "get", tag = "Tag::Chat", operation_id = "getConversation")]
    async fn conversation(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<ConversationView>> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let conversation = conversations::for_reading(&platform, auth.0.scope(), household.id).await?;
        Ok(Json(ConversationView::new(conversation, false)))
    }
    /// Messages of the conversation: newest first, scrolling back with
    /// `before_seq`; or oldest first after `after_seq` (catching up).
    #[oai(path = "/conversation/messages", method = "get", tag = "Tag::Chat", operation_id = "listMessages")]
    async fn messages(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        before_seq: Query<Option<i64>>,
        after_seq: Query<Option<i64>>,
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<MessagePage>> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let conversation = conversations::for_reading(&platform, auth.0.scope(), household.id).await?;
        let limit = limit.0.as_deref().copied();
        Ok(Json(MessagePage::read(&platform, conversation.id, before_seq.0, after_seq.0, limit).await?))
    }
    /// Send a message to the practice. Retrying with the same
    /// `client_message_id` returns the stored message (200) instead of a second.
    #[oai(path = "/conversation/messages", method = "post", tag = "Tag::Chat", operation_id = "sendMessage")]
    async fn send(&self, auth: OwnerAuth, platform: Data<&Platform>, body: Json<NewChatMessage>) -> ApiResult<Sent> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let new = NewMessage {
            author: Author::Owner,
            channel: "app",
            client_message_id: Some(body.0.client_message_id),
            body: body.0.body.into_inner(),
            attachment_id: body.0.attachment_id,
        };
        let appended = conversations::send(&platform, auth.0.scope(), household.id, new).await?;
        let view = ChatMessageView::new(appended.message, appended.author_name);
        Ok(Sent::of(view, appended.replayed))
    }
    /// Upload a picture (JPEG, PNG or WebP, checked from the bytes) to send
    /// with a message. It is stored re-encoded, without EXIF or GPS data.
    #[oai(path = "/conversation/attachments", method = "post", tag = "Tag::Chat", operation_id = "uploadAttachment")]
    async fn upload(&self, auth: OwnerAuth, platform: Data<&Platform>, body: PictureUpload) -> ApiResult<Uploaded> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let scope = auth.0.scope();
        let conversation = conversations::open(&platform, scope, household.id).await?;
        let stored = attachments::upload(&platform, scope, &conversation, Author::Owner, body.into_bytes()).await?;
        Ok(Uploaded::Created(Json(stored.into())))
    }
    /// A picture sent in the conversation.
    #[oai(path = "/conversation/attachments/:id", method = "get", tag = "Tag::Chat", operation_id = "getAttachment")]
    async fn attachment(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let scope = auth.0.scope();
        let conversation = conversations::for_reading(&platform, scope, household.id).await?;
        let (_, bytes) = attachments::fetch(&platform, scope, conversation.id, id.0).await?;
        Ok(Picture::private(bytes, 86_400))
    }
    /// Mark the conversation read up to `seq` (the practice sees the receipt).
    #[oai(path = "/conversation/read", method = "post", tag = "Tag::Chat", operation_id = "markConversationRead")]
    async fn read(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<ReadMark>,
    ) -> ApiResult<Json<ConversationView>> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let scope = auth.0.scope();
        let conversation = conversations::open(&platform, scope, household.id).await?;
        let conversation = conversations::mark_read(&platform, scope, conversation.id, Side::Owner, body.0.seq).await?;
        Ok(Json(ConversationView::new(conversation, false)))
    }
}
