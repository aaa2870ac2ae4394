//! The Chat page: the practice's live inbox and one conversation at a time.
//! The page is a shell; `assets/app.js` fills it from the staff API and
//! keeps it current over the dashboard socket (`docs/chat-protocol.md`).

use askama::Template;
use petbridge_domain::{DomainError, Platform, chat::conversations, kernel::permissions::Permission, staff::accounts};
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Query, Redirect},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, refuse, render, server_error},
};

/// A colleague a conversation can be assigned to.
struct Colleague {
    id: Uuid,
    name: String,
}

/// The conversation the page opens with.
struct Selected {
    id: Uuid,
    client_name: String,
}

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatTemplate {
    chrome: Chrome,
    staff_id: Uuid,
    selected: Option<Selected>,
    colleagues: Vec<Colleague>,
}

#[derive(Deserialize)]
pub(crate) struct ChatQuery {
    /// Open this conversation.
    conversation: Option<Uuid>,
    /// Open (or start) this client's conversation ("Start chat").
    client: Option<Uuid>,
}

/// The Chat page.
#[handler]
pub(crate) async fn chat_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<ChatQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ChatView).await? {
        return Ok(refused);
    }
    let scope = principal.scope();
    // A read: it finds the household's conversation and makes none (Start
    // chat on the user dashboard posts to the staff API for that).
    if let Some(client_id) = query.client {
        match petbridge_domain::households::clients::get(&platform, scope, client_id).await {
            Err(DomainError::NotFound) => return Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
            Err(err) => return Err(server_error(err)),
            Ok(_) => {}
        }
        return match conversations::existing_of_household(&platform, scope, client_id).await {
            Ok(Some(found)) => {
                Ok(Redirect::see_other(format!("/dashboard/chat?conversation={}", found.id)).into_response())
            }
            Ok(None) => Ok(Redirect::see_other(format!("/dashboard/clients/{client_id}#contact")).into_response()),
            Err(err) => Err(server_error(err)),
        };
    }
    let selected = match query.conversation {
        Some(id) => match conversations::get(&platform, scope, id).await {
            Ok(found) => {
                let client_name = conversations::household_name(&platform, &found).await.map_err(server_error)?;
                Some(Selected { id: found.id, client_name })
            }
            Err(DomainError::NotFound) => return Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
            Err(err) => return Err(server_error(err)),
        },
        None => None,
    };
    let colleagues = accounts::list(&platform, scope)
        .await
        .map_err(server_error)?
        .into_iter()
        .map(|s| Colleague { id: s.id, name: s.display_name })
        .collect();
    render(&ChatTemplate {
        chrome: Chrome::new(&platform, &principal, "chat").await?,
        staff_id: principal.staff_id,
        selected,
        colleagues,
    })
}
