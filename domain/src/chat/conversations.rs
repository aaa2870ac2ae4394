//! Conversations between a household and its practice. A message is stored
//! with the next seq of its conversation before anyone hears of it; a
//! repeated send (same sender id) finds the stored message instead. Events
//! go out on the bus only after the commit, so a socket never announces a
//! message that cannot be read back.

use std::collections::HashMap;

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, SelectA, SelectB, Set,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::{
    Code, Cursor, DomainError, DomainResult, Page, Platform, Scope,
    chat::events::{self, ChatMessage, ConversationState, PracticeEvent},
    db::entities::{attachment, client, conversation, message, owner_account, staff_user},
    deliveries::outbox::{self, Purpose, PushMessage},
    households::clients,
};

/// A resume further behind than this gets `reset`: the client refetches
/// over REST instead of the socket replaying a long history.
pub const RESUME_LIMIT: u64 = 500;

/// A staff message waits this long before it becomes a push: an owner
/// who reads it in the app by then is not notified.
pub const OFFLINE_PUSH_DELAY: Duration = Duration::seconds(15);

/// The most characters a message holds.
pub const MAX_BODY_CHARS: usize = 4_000;

/// Which side of a conversation someone is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The household.
    Owner,
    /// The practice.
    Staff,
}

impl Side {
    /// The name frames carry.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Owner => "owner",
            Side::Staff => "staff",
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// The owner (in the app, or by text).
    Owner,
    /// A staff member.
    Staff(Uuid),
}

impl Author {
    fn side(self) -> Side {
        match self {
            Author::Owner => Side::Owner,
            Author::Staff(_) => Side::Staff,
        }
    }
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
    /// The text; may be empty when a picture is attached.
    pub body: String,
    /// A picture uploaded to the conversation beforehand.
    pub attachment_id: Option<Uuid>,
}

/// What [`append`] did.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The stored message.
    pub message: message::Model,
    /// Whether it had been stored before under the same sender id.
    pub replayed: bool,
    /// Its author as the other side sees them.
    pub author_name: String,
    /// The conversation with it.
    pub conversation: conversation::Model,
    /// Whether the message reopened a closed conversation.
    pub reopened: bool,
}

/// The household's conversation, made on first use (Start chat; the app's
/// first picture or read mark).
pub async fn open(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<conversation::Model> {
    of_household(&platform.db, platform, scope, client_id).await
}

/// [`open`] on `conn`: within a service's transaction.
pub(crate) async fn of_household(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
) -> DomainResult<conversation::Model> {
    Ok(household_conversation(conn, platform, scope, client_id, None).await?.conversation)
}

/// A household's conversation id, fixed by the household: a read can name
/// the conversation before its first message makes the row.
pub fn conversation_id(client_id: Uuid) -> Uuid {
    // A namespace of our own (itself a v5 id under the URL namespace).
    const NAMESPACE: Uuid = Uuid::from_u128(0x3c8e_0a4f_7d1b_5f2e_9a61_2b4d_8c0e_7f13);
    Uuid::new_v5(&NAMESPACE, client_id.as_bytes())
}

/// The household's conversation as a read sees it: the stored one, or the
/// empty one its first message will make, under the same id. A read (an
/// app's GET, a socket's hello) makes nothing.
pub async fn for_reading(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<conversation::Model> {
    if let Some(found) = existing_of_household(platform, scope, client_id).await? {
        return Ok(found);
    }
    let household = clients::get(platform, scope, client_id).await?;
    Ok(conversation::Model {
        id: conversation_id(household.id),
        practice_id: scope.practice_id,
        client_id: household.id,
        status: conversation::Status::Open,
        assigned_to: None,
        last_seq: 0,
        owner_read_seq: 0,
        staff_read_seq: 0,
        last_message_at: None,
        created_at: platform.clock.now(),
    })
}

/// The household's conversation if it has one; makes nothing (for reads).
pub async fn existing_of_household(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
) -> DomainResult<Option<conversation::Model>> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::ClientId.eq(client_id))
        .filter(conversation::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?)
}

/// A household with its conversation, and the message stored before under a sender id.
struct Thread {
    household: client::Model,
    conversation: conversation::Model,
    earlier: Option<Uuid>,
}

/// The column that names the message stored before under the sender id.
const EARLIER: &str = "earlier_message_id";

/// The household and its conversation (made on first use), and the id of
/// the message stored before under `sender_id`, if there is one.
async fn household_conversation(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    sender_id: Option<&str>,
) -> DomainResult<Thread> {
    if sender_id.is_some() {
        lock_on_postgres(conn, client_id).await?;
    }
    // All three in one statement on every send but the household's first:
    // each statement is a round trip to the database's thread.
    let mut select = conversation::Entity::find()
        .filter(conversation::Column::ClientId.eq(client_id))
        .find_also_related(client::Entity)
        .filter(client::Column::PracticeId.eq(scope.practice_id));
    if let Some(sender_id) = sender_id {
        let earlier = Query::select()
            .column(message::Column::Id)
            .from(message::Entity)
            .and_where(
                Expr::col((message::Entity, message::Column::ConversationId))
                    .equals((conversation::Entity, conversation::Column::Id)),
            )
            .and_where(Expr::col((message::Entity, message::Column::ClientMessageId)).eq(sender_id))
            .to_owned();
        select = select.expr_as(Expr::SubQuery(None, Box::new(earlier.into())), EARLIER);
    }
    if let Some(row) = conn.query_one(&select.into_query()).await?
        && let Some(household) = client::Model::from_query_result_optional(&row, SelectB.as_str())?
    {
        let conversation = conversation::Model::from_query_result(&row, SelectA.as_str())?;
        let earlier = if sender_id.is_some() { row.try_get::<Option<Uuid>>("", EARLIER)? } else { None };
        return Ok(Thread { household, conversation, earlier });
    }
    let household = client::Entity::find_by_id(client_id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let find = || conversation::Entity::find().filter(conversation::Column::ClientId.eq(client_id)).one(conn);
    let conversation = match find().await? {
        Some(found) => found,
        None => {
            let row = conversation::ActiveModel {
                id: Set(conversation_id(client_id)),
                practice_id: Set(scope.practice_id),
                client_id: Set(client_id),
                status: Set(conversation::Status::Open),
                assigned_to: Set(None),
                last_seq: Set(0),
                owner_read_seq: Set(0),
                staff_read_seq: Set(0),
                last_message_at: Set(None),
                created_at: Set(platform.clock.now()),
            };
            // Another request may make it first: then theirs is used.
            conversation::Entity::insert(row)
                .on_conflict_do_nothing_on([conversation::Column::ClientId])
                .exec(conn)
                .await?;
            find().await?.ok_or_else(|| DomainError::Unexpected("the conversation vanished".into()))?
        }
    };
    // Only on a household's first message (or when another request made its
    // conversation meanwhile): a plain lookup keeps this path simple.
    let earlier = match sender_id {
        Some(sender_id) => {
            lock_on_postgres(conn, client_id).await?;
            message::Entity::find()
                .select_only()
                .column(message::Column::Id)
                .filter(message::Column::ConversationId.eq(conversation.id))
                .filter(message::Column::ClientMessageId.eq(sender_id))
                .into_tuple()
                .one(conn)
                .await?
        }
        None => None,
    };
    Ok(Thread { household, conversation, earlier })
}

/// Locks a household's conversation row until the caller commits, on
/// PostgreSQL. Each of its statements reads what was committed when it
/// began, so without the lock a retried send racing its original would not
/// see it and would be stored twice (the insert failing on the sender-id
/// index). On SQLite the caller's write transaction holds the whole database.
async fn lock_on_postgres(conn: &impl ConnectionTrait, client_id: Uuid) -> DomainResult<()> {
    if conn.get_database_backend() == DbBackend::Postgres {
        conversation::Entity::find()
            .select_only()
            .column(conversation::Column::Id)
            .filter(conversation::Column::ClientId.eq(client_id))
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .one(conn)
            .await?;
    }
    Ok(())
}

/// The household's conversation if it has one (never makes one).
pub async fn existing(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<Option<conversation::Model>> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::ClientId.eq(client_id))
        .filter(conversation::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?)
}

/// A conversation of the caller's practice.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<conversation::Model> {
    conversation::Entity::find_by_id(id)
        .filter(conversation::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Stores a message in the household's conversation (reopening it) with the
/// next seq; returns it, or the one stored before under the same sender id.
/// Pass the caller's transaction; publish with [`announce`] after the commit.
pub async fn append(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    new: NewMessage,
) -> DomainResult<Appended> {
    let body = new.body.trim().to_owned();
    if body.chars().count() > MAX_BODY_CHARS || (body.is_empty() && new.attachment_id.is_none()) {
        return Err(DomainError::with(Code::InvalidMessage, "a message has 1 to 4,000 characters, or a picture"));
    }
    if new.client_message_id.as_ref().is_some_and(|id| id.is_empty() || id.len() > 100) {
        return Err(DomainError::with(Code::InvalidClientMessageId, "a client message id has 1 to 100 characters"));
    }
    let Thread { household, conversation, earlier } =
        household_conversation(conn, platform, scope, client_id, new.client_message_id.as_deref()).await?;
    let author_name = match new.author {
        Author::Owner => client_name(&household),
        Author::Staff(staff_id) => staff_user::Entity::find_by_id(staff_id)
            .one(conn)
            .await?
            .map_or_else(|| "The practice".to_owned(), |s| s.display_name),
    };
    if let Some(earlier) = earlier {
        let earlier = message::Entity::find_by_id(earlier)
            .one(conn)
            .await?
            .ok_or_else(|| DomainError::Unexpected("the earlier message vanished".into()))?;
        return Ok(Appended { message: earlier, replayed: true, author_name, conversation, reopened: false });
    }
    if let Some(attachment_id) = new.attachment_id {
        attachment::Entity::find_by_id(attachment_id)
            .filter(attachment::Column::ConversationId.eq(conversation.id))
            .one(conn)
            .await?
            .ok_or_else(|| {
                DomainError::with(Code::UnknownAttachment, "upload the picture to this conversation first")
            })?;
    }
    let now = platform.clock.now();
    // The increment locks the conversation's row until the caller commits,
    // so concurrent sends take consecutive seqs and commit in seq order.
    let read_column = match new.author.side() {
        Side::Owner => conversation::Column::OwnerReadSeq,
        Side::Staff => conversation::Column::StaffReadSeq,
    };
    let updated = conversation::Entity::update_many()
        .col_expr(conversation::Column::LastSeq, Expr::col(conversation::Column::LastSeq).add(1))
        .col_expr(read_column, Expr::col(conversation::Column::LastSeq).add(1))
        .col_expr(conversation::Column::LastMessageAt, Expr::value(now))
        .col_expr(conversation::Column::Status, Expr::value(conversation::Status::Open))
        .filter(conversation::Column::Id.eq(conversation.id))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or_else(|| DomainError::Unexpected("the conversation vanished".into()))?;
    let seq = updated.last_seq;
    let stored = message::ActiveModel {
        id: Set(Uuid::new_v4()),
        conversation_id: Set(conversation.id),
        practice_id: Set(scope.practice_id),
        seq: Set(seq),
        author: Set(new.author.side().as_str().to_owned()),
        author_staff_id: Set(match new.author {
            Author::Staff(id) => Some(id),
            Author::Owner => None,
        }),
        channel: Set(new.channel.to_owned()),
        client_message_id: Set(new.client_message_id),
        body: Set(body),
        attachment_id: Set(new.attachment_id),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let reopened = conversation.status != conversation::Status::Open;
    Ok(Appended { message: stored, replayed: false, author_name, conversation: updated, reopened })
}

/// Stores a message and tells everyone watching: the one way in for the
/// app, the dashboard and both sockets. A staff message also queues a push
/// to the household's devices, sent only if the owner has not read it by
/// then ([`OFFLINE_PUSH_DELAY`]).
pub async fn send(platform: &Platform, scope: Scope, client_id: Uuid, new: NewMessage) -> DomainResult<Appended> {
    let mut results = send_many(platform, scope, client_id, vec![new]).await?;
    results.pop().unwrap_or_else(|| Err(DomainError::Unexpected("a send stored nothing".into())))
}

/// Stores messages sent together to one household's conversation in one
/// transaction, then announces them, as [`send`] does one. A burst (an app
/// flushing what it queued offline, a socket's frames read at once) costs one
/// commit, and listeners get it together instead of a wake-up per message.
/// One result per message, in order: a message refused on its own (bad text,
/// unknown picture) does not hold back the others; a database failure stores
/// none of them.
pub async fn send_many(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    batch: Vec<NewMessage>,
) -> DomainResult<Vec<DomainResult<Appended>>> {
    // Read before the transaction: inside it, another pooled connection
    // could wait on the write lock this one holds.
    let practice = crate::practices::get(platform, scope).await?;
    let txn = platform.begin_write().await?;
    let mut results = Vec::with_capacity(batch.len());
    for new in batch {
        let author = new.author;
        match append(&txn, platform, scope, client_id, new).await {
            Ok(appended) => {
                if !appended.replayed
                    && let Author::Staff(_) = author
                {
                    notify_owners(&txn, platform, scope, client_id, &practice.name, &appended.message).await?;
                }
                results.push(Ok(appended));
            }
            // Refused before it wrote anything: the rest go on.
            Err(err @ (DomainError::Failed(..) | DomainError::NotFound))
                if matches!(err.code().kind(), crate::Kind::Unprocessable | crate::Kind::NotFound) =>
            {
                results.push(Err(err))
            }
            Err(err) => return Err(err),
        }
    }
    if results.iter().all(Result::is_err) {
        // Nothing was stored: the transaction rolls back as it drops.
        return Ok(results);
    }
    txn.commit().await?;
    for appended in results.iter().flatten().filter(|appended| !appended.replayed) {
        announce(platform, appended).await;
    }
    Ok(results)
}

/// Queues the delayed push for a staff message to each app account of the household.
async fn notify_owners(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    practice_name: &str,
    message: &message::Model,
) -> DomainResult<()> {
    let accounts = owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(client_id))
        .filter(owner_account::Column::DisabledAt.is_null())
        .all(conn)
        .await?;
    let preview: String =
        if message.body.is_empty() { "Sent you a picture".into() } else { message.body.chars().take(140).collect() };
    for account in accounts {
        let mut data = serde_json::Map::new();
        data.insert("kind".into(), "chat".into());
        data.insert("conversation_id".into(), message.conversation_id.to_string().into());
        data.insert("message_id".into(), message.id.to_string().into());
        data.insert("seq".into(), message.seq.into());
        let push = PushMessage {
            title: practice_name.to_owned(),
            body: preview.clone(),
            data,
            image_url: None,
            reason: "chat message while the owner was away".into(),
            purpose: Purpose::Notification,
            not_before: Some(platform.clock.now() + OFFLINE_PUSH_DELAY),
            sealed: None,
        };
        outbox::enqueue_push(conn, platform, scope, account.id, push).await?;
    }
    Ok(())
}

/// Whether the owner already read the chat message a push would announce
/// (checked by the push worker at send time).
pub async fn read_by_owner(platform: &Platform, conversation_id: Uuid, seq: i64) -> DomainResult<bool> {
    let conversation = conversation::Entity::find_by_id(conversation_id).one(&platform.db).await?;
    Ok(conversation.is_some_and(|c| c.owner_read_seq >= seq))
}

/// Publishes a message once it is committed. The message frame says what
/// the inbox needs (seq, and the author's side read up to it); the
/// conversation's state goes out too only when the message reopened it. A
/// lost event costs only liveness: sockets fill gaps from the table.
pub async fn announce(platform: &Platform, appended: &Appended) {
    let result = async {
        let message = ChatMessage::new(&appended.message, appended.author_name.clone());
        events::publish_to_conversation(platform, &appended.conversation, &PracticeEvent::Message { message }).await?;
        if appended.reopened {
            publish_state(platform, &appended.conversation).await?;
        }
        Ok::<_, DomainError>(())
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, message_id = %appended.message.id, "could not announce a chat message");
    }
}

async fn publish_state(platform: &Platform, conversation: &conversation::Model) -> DomainResult<()> {
    let event = PracticeEvent::ConversationUpdated { conversation: ConversationState::from(conversation) };
    events::publish(platform, conversation.practice_id, &event).await
}

/// How each message's author is shown: the staff member's display name,
/// the household's name for the owner.
pub async fn author_names(platform: &Platform, messages: &[message::Model]) -> DomainResult<HashMap<Uuid, String>> {
    let staff_ids: Vec<Uuid> = messages.iter().filter_map(|m| m.author_staff_id).collect();
    let staff: HashMap<Uuid, String> = if staff_ids.is_empty() {
        HashMap::new()
    } else {
        staff_user::Entity::find()
            .filter(staff_user::Column::Id.is_in(staff_ids))
            .all(&platform.db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.display_name))
            .collect()
    };
    // The households of the conversations whose owners wrote, two queries in all.
    let owner_conversations: Vec<Uuid> =
        messages.iter().filter(|m| m.author_staff_id.is_none()).map(|m| m.conversation_id).collect();
    let mut households: HashMap<Uuid, String> = HashMap::new();
    if !owner_conversations.is_empty() {
        let client_of: HashMap<Uuid, Uuid> = conversation::Entity::find()
            .filter(conversation::Column::Id.is_in(owner_conversations))
            .all(&platform.db)
            .await?
            .into_iter()
            .map(|c| (c.client_id, c.id))
            .collect();
        let clients = client::Entity::find()
            .filter(client::Column::Id.is_in(client_of.keys().copied()))
            .all(&platform.db)
            .await?;
        for household in clients {
            if let Some(conversation_id) = client_of.get(&household.id) {
                households.insert(*conversation_id, client_name(&household));
            }
        }
    }
    Ok(messages
        .iter()
        .map(|message| {
            let name = match message.author_staff_id {
                Some(id) => staff.get(&id).cloned().unwrap_or_else(|| "The practice".into()),
                None => households.get(&message.conversation_id).cloned().unwrap_or_default(),
            };
            (message.id, name)
        })
        .collect())
}

/// A household's name, as staff and the app show it.
pub fn client_name(household: &client::Model) -> String {
    format!("{} {}", household.first_name, household.last_name).trim().to_owned()
}

/// The name of a conversation's household.
pub async fn household_name(platform: &Platform, conversation: &conversation::Model) -> DomainResult<String> {
    let household = client::Entity::find_by_id(conversation.client_id).one(&platform.db).await?;
    Ok(household.as_ref().map(client_name).unwrap_or_default())
}

/// Marks a conversation read by one side up to `seq` (never backwards, never
/// past its last message); tells everyone when it moved.
pub async fn mark_read(
    platform: &Platform,
    scope: Scope,
    conversation_id: Uuid,
    side: Side,
    seq: i64,
) -> DomainResult<conversation::Model> {
    let conversation = get(platform, scope, conversation_id).await?;
    let seq = std::cmp::min(seq, conversation.last_seq);
    let column = match side {
        Side::Owner => conversation::Column::OwnerReadSeq,
        Side::Staff => conversation::Column::StaffReadSeq,
    };
    let moved = conversation::Entity::update_many()
        .col_expr(column, Expr::value(seq))
        .filter(conversation::Column::Id.eq(conversation.id))
        .filter(Expr::col(column).lt(seq))
        .exec(&platform.db)
        .await?
        .rows_affected
        > 0;
    let conversation = get(platform, scope, conversation_id).await?;
    if moved {
        let event = PracticeEvent::Read { conversation_id, by: side.as_str().into(), seq };
        let published = async {
            events::publish_to_conversation(platform, &conversation, &event).await?;
            publish_state(platform, &conversation).await
        };
        if let Err(err) = published.await {
            tracing::warn!(error = %err, %conversation_id, "could not announce a read receipt");
        }
    }
    Ok(conversation)
}

/// Tells the conversation that someone is typing (nothing is stored).
pub async fn typing(platform: &Platform, conversation: &conversation::Model, side: Side, name: String) {
    let event = PracticeEvent::Typing { conversation_id: conversation.id, by: side.as_str().into(), name };
    if let Err(err) = events::publish_to_conversation(platform, conversation, &event).await {
        tracing::debug!(error = %err, "could not announce typing");
    }
}

/// What staff change about a conversation.
#[derive(Debug, Clone, Default)]
pub struct ConversationChange {
    /// Close or reopen it.
    pub status: Option<conversation::Status>,
    /// Assign to a staff member (`Some(None)` unassigns).
    pub assigned_to: Option<Option<Uuid>>,
}

/// Closes, reopens or assigns a conversation of the practice.
pub async fn update(
    platform: &Platform,
    scope: Scope,
    conversation_id: Uuid,
    change: ConversationChange,
) -> DomainResult<conversation::Model> {
    let conversation = get(platform, scope, conversation_id).await?;
    let mut row: conversation::ActiveModel = conversation.into();
    if let Some(status) = change.status {
        row.status = Set(status);
    }
    if let Some(assignee) = change.assigned_to {
        if let Some(staff_id) = assignee {
            staff_user::Entity::find_by_id(staff_id)
                .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
                .filter(staff_user::Column::DeletedAt.is_null())
                .one(&platform.db)
                .await?
                .ok_or_else(|| DomainError::with(Code::UnknownStaff, "no such staff member in this practice"))?;
        }
        row.assigned_to = Set(assignee);
    }
    let conversation = row.update(&platform.db).await?;
    if let Err(err) = publish_state(platform, &conversation).await {
        tracing::warn!(error = %err, %conversation_id, "could not announce a conversation change");
    }
    Ok(conversation)
}

/// Which conversations the inbox lists.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Only those open, or only those closed; all when unset.
    pub status: Option<conversation::Status>,
    /// Only those assigned to this staff member.
    pub assigned_to: Option<Uuid>,
    /// Only those assigned to nobody.
    pub unassigned: bool,
}

/// One line of the practice's inbox.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// The conversation.
    pub conversation: conversation::Model,
    /// The household's name.
    pub client_name: String,
    /// The practice keeps a personal note about the household.
    pub has_personal_note: bool,
    /// Its last message.
    pub last_message: Option<message::Model>,
}

/// The practice's conversations with messages, latest message first; the
/// cursor holds the last one's last-message time and id.
pub async fn inbox(
    platform: &Platform,
    scope: Scope,
    filter: &InboxFilter,
    after: Option<Cursor>,
    limit: u64,
) -> DomainResult<Page<InboxEntry>> {
    let mut query = conversation::Entity::find()
        .filter(conversation::Column::PracticeId.eq(scope.practice_id))
        .filter(conversation::Column::LastMessageAt.is_not_null());
    if let Some(status) = filter.status {
        query = query.filter(conversation::Column::Status.eq(status));
    }
    if let Some(staff_id) = filter.assigned_to {
        query = query.filter(conversation::Column::AssignedTo.eq(staff_id));
    }
    if filter.unassigned {
        query = query.filter(conversation::Column::AssignedTo.is_null());
    }
    let keyset = (conversation::Column::LastMessageAt, conversation::Column::Id);
    let key = |c: &conversation::Model| c.last_message_at.map(|at| Cursor { created_at: at, id: c.id });
    let Page { items: rows, next } =
        crate::db::paging::newest_first(&platform.db, query, keyset, after, limit, key).await?;
    let clients: HashMap<Uuid, client::Model> = client::Entity::find()
        .filter(client::Column::Id.is_in(rows.iter().map(|c| c.client_id)))
        .all(&platform.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut last_messages: HashMap<Uuid, message::Model> = HashMap::new();
    if !rows.is_empty() {
        let last = rows.iter().fold(sea_orm::Condition::any(), |any, c| {
            any.add(message::Column::ConversationId.eq(c.id).and(message::Column::Seq.eq(c.last_seq)))
        });
        for message in message::Entity::find().filter(last).all(&platform.db).await? {
            last_messages.insert(message.conversation_id, message);
        }
    }
    let items = rows
        .into_iter()
        .map(|conversation| InboxEntry {
            client_name: clients.get(&conversation.client_id).map(client_name).unwrap_or_default(),
            has_personal_note: clients.get(&conversation.client_id).is_some_and(|c| c.personal_note.is_some()),
            last_message: last_messages.remove(&conversation.id),
            conversation,
        })
        .collect();
    Ok(Page { items, next })
}

/// A page of a conversation's history, with its authors' names.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The messages, in the order asked for.
    pub items: Vec<message::Model>,
    /// Where the next page starts (its `before_seq` or `after_seq`); none on the last.
    pub next_seq: Option<i64>,
    /// Each message's author as the reader sees them.
    pub names: HashMap<Uuid, String>,
}

/// History for REST: newest first scrolling back from `before_seq` (the
/// newest when neither is given), or oldest first after `after_seq`.
pub async fn history(
    platform: &Platform,
    conversation_id: Uuid,
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: u64,
) -> DomainResult<HistoryPage> {
    let mut items = match (before_seq, after_seq) {
        (Some(_), Some(_)) => {
            return Err(DomainError::with(Code::InvalidCursor, "page with before_seq or after_seq, not both"));
        }
        (_, Some(after)) => messages_after(platform, conversation_id, after, limit + 1).await?,
        (before, None) => messages_before(&platform.db, conversation_id, before, limit + 1).await?,
    };
    let next_seq = if items.len() as u64 > limit {
        items.truncate(limit as usize);
        items.last().map(|m| m.seq)
    } else {
        None
    };
    let names = author_names(platform, &items).await?;
    Ok(HistoryPage { items, next_seq, names })
}

/// A conversation's messages after `after_seq`, oldest first (at most `limit`).
pub async fn messages_after(
    platform: &Platform,
    conversation_id: Uuid,
    after_seq: i64,
    limit: u64,
) -> DomainResult<Vec<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(after_seq))
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(&platform.db)
        .await?)
}

/// A conversation's messages before `before_seq` (the newest when unset),
/// newest first (at most `limit`): history pages scrolling back.
pub async fn messages_before(
    conn: &impl ConnectionTrait,
    conversation_id: Uuid,
    before_seq: Option<i64>,
    limit: u64,
) -> DomainResult<Vec<message::Model>> {
    let mut query = message::Entity::find().filter(message::Column::ConversationId.eq(conversation_id));
    if let Some(before) = before_seq {
        query = query.filter(message::Column::Seq.lt(before));
    }
    Ok(query.order_by_desc(message::Column::Seq).limit(limit).all(conn).await?)
}
