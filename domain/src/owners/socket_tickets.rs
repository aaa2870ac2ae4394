//! One-time tickets for the app's chat socket. A websocket cannot carry an
//! `Authorization` header from every client, and a lasting token in a URL
//! ends up in logs; so the app fetches a ticket over REST (with its access
//! token) and opens the socket with it within a minute. A ticket opens one
//! socket: redeeming it deletes it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Platform,
    db::entities::{owner_account, owner_session, socket_ticket},
    kernel::{caller::OwnerPrincipal, tokens},
};

/// How long a ticket may wait to be used.
const TICKET_LIFETIME: Duration = Duration::seconds(60);

/// A fresh ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// Pass as `?ticket=` when opening the socket.
    pub ticket: String,
    /// Unused by then, it no longer works.
    pub expires_at: DateTime<Utc>,
}

/// Who a redeemed ticket lets in.
#[derive(Debug, Clone)]
pub struct TicketHolder {
    /// Their practice.
    pub practice_id: Uuid,
    /// The app account.
    pub account_id: Uuid,
    /// Its household.
    pub client_id: Uuid,
    /// The app login the ticket was fetched with.
    pub session_id: Uuid,
}

/// Issues a ticket for the logged-in owner.
pub async fn issue(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<Ticket> {
    let ticket = tokens::random_token()?;
    let now = platform.clock.now();
    // Old unused tickets go as new ones come.
    socket_ticket::Entity::delete_many().filter(socket_ticket::Column::ExpiresAt.lt(now)).exec(&platform.db).await?;
    let expires_at = now + TICKET_LIFETIME;
    socket_ticket::Entity::insert(socket_ticket::ActiveModel {
        ticket_hash: Set(tokens::token_hash(&ticket)),
        practice_id: Set(principal.practice_id),
        account_id: Set(principal.account_id),
        session_id: Set(principal.session_id),
        expires_at: Set(expires_at),
    })
    .exec(&platform.db)
    .await?;
    Ok(Ticket { ticket, expires_at })
}

/// Uses up a ticket: who it lets in, if it is unused, unexpired, and its
/// login and account are still live.
pub async fn redeem(platform: &Platform, ticket: &str) -> DomainResult<TicketHolder> {
    let invalid = || DomainError::from(Code::TicketInvalid);
    let hash = tokens::token_hash(ticket);
    let found = socket_ticket::Entity::find_by_id(hash.clone()).one(&platform.db).await?.ok_or_else(invalid)?;
    // Only the request whose delete takes the row may use it.
    let taken = socket_ticket::Entity::delete_many()
        .filter(socket_ticket::Column::TicketHash.eq(hash))
        .exec(&platform.db)
        .await?
        .rows_affected
        == 1;
    if !taken || found.expires_at <= platform.clock.now() {
        return Err(invalid());
    }
    let holder = live_holder(platform, found.account_id, found.session_id).await?.ok_or_else(invalid)?;
    Ok(holder)
}

/// Whether an app login is still live (not logged out, revoked, nor its
/// account disabled): an open socket checks on each heartbeat.
pub async fn still_live(platform: &Platform, account_id: Uuid, session_id: Uuid) -> bool {
    matches!(live_holder(platform, account_id, session_id).await, Ok(Some(_)))
}

async fn live_holder(platform: &Platform, account_id: Uuid, session_id: Uuid) -> DomainResult<Option<TicketHolder>> {
    let session = owner_session::Entity::find_by_id(session_id)
        .filter(owner_session::Column::AccountId.eq(account_id))
        .filter(owner_session::Column::RevokedAt.is_null())
        .one(&platform.db)
        .await?;
    let account = owner_account::Entity::find_by_id(account_id)
        .filter(owner_account::Column::DisabledAt.is_null())
        .one(&platform.db)
        .await?;
    Ok(match (session, account) {
        (Some(_), Some(account)) => Some(TicketHolder {
            practice_id: account.practice_id,
            account_id,
            client_id: account.client_id,
            session_id,
        }),
        _ => None,
    })
}
