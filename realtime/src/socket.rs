//! The chat sockets' one loop, for both sides: the owner app (`/ws/app`,
//! its household's conversation) and the dashboard (`/ws/dashboard`, every
//! conversation of the practice and its other live events). The frame
//! protocol is documented in `docs/chat-protocol.md`.
//!
//! Each socket keeps, per conversation, the last seq it sent. A message
//! frame from the bus that is not the next one is either old (dropped) or
//! ahead of a gap, which is filled from the table first: messages commit in
//! seq order, so what the gap lacks is already stored. A client therefore
//! sees every conversation in seq order, without holes.
//!
//! No message frame goes out before the client's first frame (normally
//! `resume`): whatever is stored by then comes from the table when it
//! resumes, so a replay never arrives after a later live message.

use std::{
    collections::HashMap,
    pin::Pin,
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt, stream::Peekable};
use petbridge_domain::{
    Code, DomainError, DomainResult, Platform, Scope,
    chat::{
        conversations::{self, Author, NewMessage, RESUME_LIMIT, Side},
        events::{self, ChatMessage, EVENT_VERSION, PracticeEvent},
    },
    kernel::{caller::StaffPrincipal, permissions::Permission},
    owners::socket_tickets::{self, TicketHolder},
    ports::bus,
    staff::sessions,
};
use poem::web::websocket::{CloseCode, Message, WebSocketConfig, WebSocketStream};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use uuid::Uuid;

/// How often the server pings; a socket that has not answered the previous
/// ping by then is closed, and the login behind it is checked again.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// A socket that sends nothing for this long is closed (the app reconnects
/// when it is used again).
const IDLE_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Typing frames from one socket are passed on at most this often.
const TYPING_INTERVAL: Duration = Duration::from_secs(2);

/// Frames queued on the bus that one flush may carry.
const COALESCE: usize = 64;

/// Small buffers: most sockets sit idle, and their memory is what limits how
/// many one server holds (the default read buffer is 128 KiB per socket).
pub fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// Who is at the other end of a socket.
pub enum Peer {
    /// An owner in the app, let in by a ticket.
    Owner(TicketHolder),
    /// A staff member in the dashboard, by session cookie.
    Staff {
        /// The session's principal.
        principal: StaffPrincipal,
        /// The session cookie, checked again on each heartbeat.
        token: String,
    },
}

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Send {
        conversation_id: Option<Uuid>,
        client_message_id: String,
        #[serde(default)]
        body: String,
        attachment_id: Option<Uuid>,
    },
    Read {
        conversation_id: Option<Uuid>,
        seq: i64,
    },
    Typing {
        conversation_id: Option<Uuid>,
    },
    Resume {
        conversations: Vec<Position>,
    },
}

/// A `send` frame's message, waiting to be stored with the ones after it.
struct Outgoing {
    client_message_id: String,
    body: String,
    attachment_id: Option<Uuid>,
}

/// A client frame, or the error frame that answers it.
fn parse(frame: &str) -> Result<ClientFrame, Message> {
    let value: Value =
        serde_json::from_str(frame).map_err(|_| error_frame(Code::InvalidFrame, "frames are JSON objects", None))?;
    if value.get("v").is_some_and(|v| v.as_u64() != Some(u64::from(EVENT_VERSION))) {
        return Err(error_frame(Code::UnsupportedVersion, "this server speaks version 1", None));
    }
    let parsed =
        serde_json::from_value(value).map_err(|err| error_frame(Code::InvalidFrame, &err.to_string(), None))?;
    // The same rule as every request body: no control characters, no mark stacks.
    if let ClientFrame::Send { body, client_message_id, .. } = &parsed
        && let Err(problem) = petbridge_domain::kernel::text::check_text(body)
    {
        let detail = format!("`body` {}", problem.explanation());
        return Err(error_frame(problem.code(), &detail, Some(client_message_id.as_str())));
    }
    Ok(parsed)
}

#[derive(Debug, Deserialize)]
struct Position {
    conversation_id: Option<Uuid>,
    last_seq: i64,
}

/// One socket's state.
struct Session {
    platform: Platform,
    peer: Peer,
    /// The owner's conversation (none for staff).
    own_conversation: Option<Uuid>,
    /// Per conversation, the last seq this socket sent.
    sent: HashMap<Uuid, i64>,
    /// Whether the client said where it stands (its first frame).
    resumed: bool,
    last_typing: Option<Instant>,
}

/// Serves one upgraded socket until either side closes it.
///
/// The work a frame causes (database reads, a send's transaction) runs in
/// boxed futures: an idle socket's task then holds only this loop's state,
/// not room for the largest of them, which is most of its memory.
pub async fn serve(socket: WebSocketStream, platform: Platform, peer: Peer) {
    let (mut sink, stream) = socket.split();
    let mut stream = stream.peekable();
    let mut session =
        Session { platform, peer, own_conversation: None, sent: HashMap::new(), resumed: false, last_typing: None };
    let hello = match Box::pin(session.hello()).await {
        Ok(hello) => hello,
        Err(err) => {
            tracing::warn!(error = %err, "could not open a chat socket");
            let _ = sink.send(Message::Close(Some((CloseCode::Error, "try again".into())))).await;
            return;
        }
    };
    let (topic, capacity) = match (&session.peer, session.own_conversation) {
        (Peer::Owner(_), Some(conversation_id)) => (events::conversation_topic(conversation_id), bus::QUIET_TOPIC),
        _ => (events::practice_topic(session.practice_id()), bus::BUSY_TOPIC),
    };
    let mut bus = session.platform.bus.subscribe(&topic, capacity);
    if sink.send(text(&hello)).await.is_err() {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut answered = true;
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            event = bus.recv() => {
                let mut out = Vec::new();
                let mut next = Some(event);
                let mut fed = 0;
                // Feed what is queued, then flush once (coalescing). Only
                // take another frame when there is room for it: a frame
                // taken and then left would be lost.
                while let Some(event) = next.take() {
                    match event {
                        // Most frames go straight out; only a gap reads the table.
                        Ok(frame) => match session.route(&frame) {
                            Routed::Send(message) => out.push(message),
                            Routed::Skip => {}
                            Routed::CatchUp(conversation_id, last) => {
                                out.extend(Box::pin(session.catch_up(conversation_id, last)).await);
                            }
                        },
                        Err(RecvError::Lagged(_)) => out.extend(Box::pin(session.lagged()).await),
                        Err(RecvError::Closed) => return,
                    }
                    fed += 1;
                    if fed < COALESCE {
                        next = match bus.try_recv() {
                            Ok(frame) => Some(Ok(frame)),
                            Err(TryRecvError::Lagged(missed)) => Some(Err(RecvError::Lagged(missed))),
                            Err(TryRecvError::Empty | TryRecvError::Closed) => None,
                        };
                    }
                }
                if send_all(&mut sink, out).await.is_err() {
                    break;
                }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(frame))) => {
                    last_heard = Instant::now();
                    // Text frames that came in together are handled together,
                    // so a burst of sends is stored in one commit.
                    let frames = with_ready_text(frame, &mut stream);
                    let replies = Box::pin(session.on_frames(frames)).await;
                    if send_all(&mut sink, replies).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Pong(_))) => answered = true,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = heartbeat.tick() => {
                let live = Box::pin(session.still_live()).await;
                let idle = last_heard.elapsed() > IDLE_LIMIT;
                if !answered || !live || idle {
                    let reason = if !live { "login ended" } else if idle { "idle" } else { "no answer to ping" };
                    let _ = sink.send(Message::Close(Some((CloseCode::Policy, reason.to_owned())))).await;
                    break;
                }
                answered = false;
                if sink.send(Message::Ping(Vec::new())).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// `first` and the text frames already received after it, up to
/// [`COALESCE`] in all; anything else stays for the loop to take.
fn with_ready_text<S>(first: String, stream: &mut Peekable<S>) -> Vec<String>
where
    S: futures_util::Stream<Item = std::io::Result<Message>> + Unpin,
{
    let mut frames = vec![first];
    while frames.len() < COALESCE {
        let next = Pin::new(&mut *stream).next_if(|item| matches!(item, Ok(Message::Text(_))));
        match next.now_or_never() {
            Some(Some(Ok(Message::Text(frame)))) => frames.push(frame),
            _ => break,
        }
    }
    frames
}

async fn send_all<S>(sink: &mut S, frames: Vec<Message>) -> Result<(), poem::Error>
where
    S: futures_util::Sink<Message> + Unpin,
{
    if frames.is_empty() {
        return Ok(());
    }
    let closed = || poem::Error::from_string("socket closed", poem::http::StatusCode::BAD_REQUEST);
    for frame in frames {
        sink.feed(frame).await.map_err(|_| closed())?;
    }
    sink.flush().await.map_err(|_| closed())
}

/// What a bus frame becomes on one socket.
enum Routed {
    /// This frame, as it is.
    Send(Message),
    /// Nothing: the socket had it, or its resume will read it.
    Skip,
    /// The messages of a conversation after this seq, from the table (a gap).
    CatchUp(Uuid, i64),
}

fn text(value: &Value) -> Message {
    Message::Text(value.to_string())
}

/// A bus frame's JSON as a text message. It is our own JSON, so `from_utf8`
/// passes it on its word-at-a-time path; `from_utf8_lossy` walked it byte by
/// byte, for every socket, and was an eighth of the server's CPU in the
/// 5,000-socket fan-out (perf).
fn bytes_text(json: Bytes) -> Message {
    match std::str::from_utf8(&json) {
        Ok(text) => Message::Text(text.to_owned()),
        Err(_) => Message::Text(String::from_utf8_lossy(&json).into_owned()),
    }
}

fn error_frame(code: Code, detail: &str, client_message_id: Option<&str>) -> Message {
    let mut frame = json!({ "v": EVENT_VERSION, "type": "error", "code": code.as_str(), "detail": detail });
    if let Some(id) = client_message_id {
        frame["client_message_id"] = Value::String(id.to_owned());
    }
    text(&frame)
}

fn domain_error_frame(err: &DomainError, client_message_id: Option<&str>) -> Message {
    if let DomainError::Unexpected(cause) = err {
        tracing::error!(error = %cause, "chat socket request failed");
    }
    error_frame(err.code(), &err.message(), client_message_id)
}

impl Session {
    fn practice_id(&self) -> Uuid {
        match &self.peer {
            Peer::Owner(holder) => holder.practice_id,
            Peer::Staff { principal, .. } => principal.practice_id,
        }
    }

    fn scope(&self) -> Scope {
        Scope { practice_id: self.practice_id() }
    }

    fn side(&self) -> Side {
        match self.peer {
            Peer::Owner(_) => Side::Owner,
            Peer::Staff { .. } => Side::Staff,
        }
    }

    /// The first frame; an owner's socket starts at its conversation's last seq.
    async fn hello(&mut self) -> Result<Value, DomainError> {
        match &self.peer {
            Peer::Owner(holder) => {
                let conversation = conversations::for_reading(&self.platform, self.scope(), holder.client_id).await?;
                self.own_conversation = Some(conversation.id);
                self.sent.insert(conversation.id, conversation.last_seq);
                Ok(json!({
                    "v": EVENT_VERSION, "type": "hello", "side": "owner",
                    "conversation_id": conversation.id, "last_seq": conversation.last_seq,
                    "staff_read_seq": conversation.staff_read_seq, "owner_read_seq": conversation.owner_read_seq,
                }))
            }
            Peer::Staff { principal, .. } => Ok(json!({
                "v": EVENT_VERSION, "type": "hello", "side": "staff", "staff": principal.username,
            })),
        }
    }

    async fn still_live(&self) -> bool {
        match &self.peer {
            Peer::Owner(holder) => {
                socket_tickets::still_live(&self.platform, holder.account_id, holder.session_id).await
            }
            Peer::Staff { token, .. } => sessions::still_live(&self.platform, token).await,
        }
    }

    /// Fell behind the bus, which dropped frames: the messages come from
    /// the table instead; the rest (typing, reads, inbox state) the client
    /// refreshes when told.
    async fn lagged(&mut self) -> Vec<Message> {
        let mut out = vec![text(&json!({ "v": EVENT_VERSION, "type": "lagged" }))];
        let positions: Vec<(Uuid, i64)> = self.sent.iter().map(|(id, seq)| (*id, *seq)).collect();
        for (conversation_id, last) in positions {
            out.extend(self.catch_up(conversation_id, last).await);
        }
        out
    }

    /// What one bus frame asks of this socket. Decided without awaiting, so
    /// the common case costs no boxed future per frame and socket.
    fn route(&mut self, frame: &Bytes) -> Routed {
        let (route, json) = events::split(frame);
        let Some(conversation_id) = route.conversation_id else {
            return Routed::Send(bytes_text(json));
        };
        if route.seq == 0 {
            return Routed::Send(bytes_text(json));
        }
        if !self.resumed {
            // Its resume reads it from the table.
            return Routed::Skip;
        }
        match self.sent.get_mut(&conversation_id) {
            // A staff socket learns a conversation from its first message.
            None => {
                self.sent.insert(conversation_id, route.seq);
                Routed::Send(bytes_text(json))
            }
            Some(last) if route.seq <= *last => Routed::Skip,
            Some(last) if route.seq == *last + 1 => {
                *last = route.seq;
                Routed::Send(bytes_text(json))
            }
            Some(last) => Routed::CatchUp(conversation_id, *last),
        }
    }

    /// Sends what a conversation holds after `after`, from the table; too
    /// much becomes `reset` (the client refetches over REST).
    async fn catch_up(&mut self, conversation_id: Uuid, after: i64) -> Vec<Message> {
        let stored = match conversations::messages_after(&self.platform, conversation_id, after, RESUME_LIMIT + 1).await
        {
            Ok(stored) => stored,
            Err(err) => return vec![domain_error_frame(&err, None)],
        };
        if stored.len() as u64 > RESUME_LIMIT {
            let last = match conversations::get(&self.platform, self.scope(), conversation_id).await {
                Ok(conversation) => conversation.last_seq,
                Err(err) => return vec![domain_error_frame(&err, None)],
            };
            // Live frames carry on from there; the client fetches the rest.
            self.sent.insert(conversation_id, last);
            return vec![text(&json!({
                "v": EVENT_VERSION, "type": "reset", "reason": "too_far_behind",
                "conversation_id": conversation_id, "last_seq": last,
            }))];
        }
        let names = match conversations::author_names(&self.platform, &stored).await {
            Ok(names) => names,
            Err(err) => return vec![domain_error_frame(&err, None)],
        };
        let mut out = Vec::with_capacity(stored.len());
        for message in &stored {
            let event = PracticeEvent::Message {
                message: ChatMessage::new(message, names.get(&message.id).cloned().unwrap_or_default()),
            };
            out.push(bytes_text(events::json(&event)));
        }
        let newest = stored.last().map_or(after, |m| m.seq);
        let sent = self.sent.entry(conversation_id).or_insert(newest);
        *sent = (*sent).max(newest);
        out
    }

    /// The conversation a client frame names, checked against who asks: an
    /// owner only ever reaches their own; staff only their practice's.
    async fn conversation(
        &self,
        conversation_id: Option<Uuid>,
    ) -> Result<petbridge_domain::db::entities::conversation::Model, DomainError> {
        match (&self.peer, conversation_id) {
            (Peer::Owner(_), Some(id)) if Some(id) != self.own_conversation => Err(DomainError::NotFound),
            (Peer::Owner(_), _) => {
                let id = self.own_conversation.ok_or(DomainError::NotFound)?;
                conversations::get(&self.platform, self.scope(), id).await
            }
            (Peer::Staff { principal, .. }, Some(id)) => {
                if !principal.level.grants(Permission::ChatView) {
                    return Err(DomainError::Forbidden);
                }
                conversations::get(&self.platform, self.scope(), id).await
            }
            (Peer::Staff { .. }, None) => {
                Err(DomainError::with(Code::ConversationRequired, "name the conversation_id"))
            }
        }
    }

    /// The household whose conversation a client frame names, checked as
    /// [`Self::conversation`] does; an owner's is known without a read.
    async fn household(&self, conversation_id: Option<Uuid>) -> Result<Uuid, DomainError> {
        if let Peer::Owner(holder) = &self.peer
            && self.own_conversation.is_some()
            && conversation_id.is_none_or(|id| Some(id) == self.own_conversation)
        {
            return Ok(holder.client_id);
        }
        Ok(self.conversation(conversation_id).await?.client_id)
    }

    /// What client frames that came in together do, and the frames they
    /// answer with, in order. Consecutive sends to one conversation are
    /// stored together (one commit).
    async fn on_frames(&mut self, frames: Vec<String>) -> Vec<Message> {
        let mut out = Vec::new();
        let mut sends: Vec<Outgoing> = Vec::new();
        let mut sends_to = None;
        for frame in frames {
            let parsed = match parse(&frame) {
                Ok(parsed) => parsed,
                Err(reply) => {
                    out.extend(self.send(sends_to, std::mem::take(&mut sends)).await);
                    out.push(reply);
                    continue;
                }
            };
            if !self.resumed && !matches!(parsed, ClientFrame::Resume { .. }) {
                // Any other first frame resumes from where the socket started.
                out.extend(self.resume(Vec::new()).await);
            }
            match parsed {
                ClientFrame::Send { conversation_id, client_message_id, body, attachment_id } => {
                    if conversation_id != sends_to {
                        out.extend(self.send(sends_to, std::mem::take(&mut sends)).await);
                        sends_to = conversation_id;
                    }
                    sends.push(Outgoing { client_message_id, body, attachment_id });
                }
                other => {
                    out.extend(self.send(sends_to, std::mem::take(&mut sends)).await);
                    out.extend(self.handle(other).await);
                }
            }
        }
        out.extend(self.send(sends_to, sends).await);
        out
    }

    /// Starts message frames: from each position given, and for an owner's
    /// own conversation from where the socket opened when it is not named.
    async fn resume(&mut self, positions: Vec<Position>) -> Vec<Message> {
        self.resumed = true;
        let mut out = Vec::new();
        let names_own =
            positions.iter().any(|p| p.conversation_id.is_none() || p.conversation_id == self.own_conversation);
        if let (Some(own), false) = (self.own_conversation, names_own) {
            let opened_at = self.sent.get(&own).copied().unwrap_or(0);
            out.extend(self.catch_up(own, opened_at).await);
        }
        for position in positions {
            match self.conversation(position.conversation_id).await {
                // Replays from the client's seq, whatever this socket sent before.
                Ok(conversation) => out.extend(self.catch_up(conversation.id, position.last_seq.max(0)).await),
                Err(err) => out.push(domain_error_frame(&err, None)),
            }
        }
        out
    }

    async fn handle(&mut self, parsed: ClientFrame) -> Vec<Message> {
        match parsed {
            ClientFrame::Send { conversation_id, client_message_id, body, attachment_id } => {
                self.send(conversation_id, vec![Outgoing { client_message_id, body, attachment_id }]).await
            }
            ClientFrame::Read { conversation_id, seq } => {
                let result = async {
                    let conversation = self.conversation(conversation_id).await?;
                    conversations::mark_read(&self.platform, self.scope(), conversation.id, self.side(), seq).await
                }
                .await;
                match result {
                    Ok(_) => Vec::new(),
                    Err(err) => vec![domain_error_frame(&err, None)],
                }
            }
            ClientFrame::Typing { conversation_id } => {
                if self.last_typing.is_some_and(|at| at.elapsed() < TYPING_INTERVAL) {
                    return Vec::new();
                }
                self.last_typing = Some(Instant::now());
                match self.conversation(conversation_id).await {
                    Ok(conversation) => {
                        let name = self.display_name(&conversation).await;
                        conversations::typing(&self.platform, &conversation, self.side(), name).await;
                        Vec::new()
                    }
                    Err(err) => vec![domain_error_frame(&err, None)],
                }
            }
            ClientFrame::Resume { conversations } => self.resume(conversations).await,
        }
    }

    /// Stores `sends` to one conversation together; an `ack` or an `error`
    /// for each, in order.
    async fn send(&mut self, conversation_id: Option<Uuid>, sends: Vec<Outgoing>) -> Vec<Message> {
        if sends.is_empty() {
            return Vec::new();
        }
        let refuse_all = |sends: &[Outgoing], err: &DomainError| {
            sends.iter().map(|s| domain_error_frame(err, Some(&s.client_message_id))).collect::<Vec<_>>()
        };
        let household = match self.household(conversation_id).await {
            Ok(household) => household,
            Err(err) => return refuse_all(&sends, &err),
        };
        let author = match &self.peer {
            Peer::Owner(_) => Author::Owner,
            Peer::Staff { principal, .. } => Author::Staff(principal.staff_id),
        };
        let batch = sends
            .iter()
            .map(|s| NewMessage {
                author,
                channel: "app",
                client_message_id: Some(s.client_message_id.clone()),
                body: s.body.clone(),
                attachment_id: s.attachment_id,
            })
            .collect();
        let results = match conversations::send_many(&self.platform, self.scope(), household, batch).await {
            Ok(results) => results,
            Err(err) => return refuse_all(&sends, &err),
        };
        let answer = |(sent, result): (&Outgoing, DomainResult<conversations::Appended>)| match result {
            Ok(appended) => text(&json!({
                "v": EVENT_VERSION, "type": "ack", "client_message_id": sent.client_message_id,
                "replayed": appended.replayed, "message": ChatMessage::new(&appended.message, appended.author_name),
            })),
            Err(err) => domain_error_frame(&err, Some(&sent.client_message_id)),
        };
        sends.iter().zip(results).map(answer).collect()
    }

    /// How this socket's user appears to the other side.
    async fn display_name(&self, conversation: &petbridge_domain::db::entities::conversation::Model) -> String {
        match &self.peer {
            Peer::Staff { principal, .. } => principal.display_name.clone(),
            Peer::Owner(_) => conversations::household_name(&self.platform, conversation).await.unwrap_or_default(),
        }
    }
}
