//! Texts that arrive: STOP and START keywords, HELP, and replies kept for
//! the practice's conversation.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Platform, Scope,
    chat::conversations,
    db::entities::{client, practice, text_message},
    deliveries::outbox::Purpose,
    kernel::{practice::Practice, text::Phone},
};

use super::{
    opt_outs::{opt_in, record_opt_out},
    sending::{NewText, enqueue},
};

/// Keywords that stop every text to the sender (the carriers' list).
const STOP_WORDS: [&str; 8] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
const START_WORDS: [&str; 2] = ["START", "UNSTOP"];
const HELP_WORDS: [&str; 2] = ["HELP", "INFO"];

/// A text the provider says arrived.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The provider's message id.
    pub sid: String,
    /// The sender.
    pub from: String,
    /// The practice's number it was sent to.
    pub to: String,
    /// What it says.
    pub body: String,
}

/// What an inbound text did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    /// The sender's texts stop.
    OptedOut,
    /// The sender's texts resume.
    OptedIn,
    /// The practice's info was sent back.
    Helped,
    /// Kept for the practice to read (two-way texting).
    Received {
        /// The household whose phone it came from, if one matches.
        client_id: Option<Uuid>,
    },
    /// The provider repeated a text already handled.
    Duplicate,
    /// No practice texts from that number.
    UnknownNumber,
}

/// Handles an inbound text once, however often the provider repeats it:
/// STOP words opt the sender out at once, START words opt back in, HELP
/// replies with the practice's info, anything else is kept for the practice.
pub async fn receive(platform: &Platform, inbound: Inbound) -> DomainResult<InboundOutcome> {
    let (Ok(from), Ok(to)) = (Phone::parse(&inbound.from), Phone::parse(&inbound.to)) else {
        return Err(DomainError::with(Code::InvalidPhone, "From and To must be phone numbers"));
    };
    let Some(model) =
        practice::Entity::find().filter(practice::Column::SmsNumber.eq(to.as_str())).one(&platform.db).await?
    else {
        return Ok(InboundOutcome::UnknownNumber);
    };
    let practice = Practice::try_from(model)?;
    let client = client::Entity::find()
        .filter(client::Column::PracticeId.eq(practice.id))
        .filter(client::Column::Phone.eq(from.as_str()))
        .one(&platform.db)
        .await?;
    let txn = platform.begin_write().await?;
    // The provider's id is unique: a repeated webhook stops here.
    let stored = text_message::Entity::insert(text_message::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(practice.id),
        client_id: Set(client.as_ref().map(|c| c.id)),
        phone: Set(from.as_str().to_owned()),
        body: Set(inbound.body.clone()),
        provider_sid: Set(inbound.sid.clone()),
        received_at: Set(platform.clock.now()),
    })
    .on_conflict_do_nothing_on([text_message::Column::ProviderSid])
    .exec(&txn)
    .await?;
    if matches!(stored, sea_orm::TryInsertResult::Conflicted) {
        return Ok(InboundOutcome::Duplicate);
    }
    let word = inbound.body.trim().to_uppercase();
    let mut stored_message = None;
    let outcome = if STOP_WORDS.contains(&word.as_str()) {
        record_opt_out(&txn, platform, practice.id, from.as_str(), "keyword").await?;
        InboundOutcome::OptedOut
    } else if START_WORDS.contains(&word.as_str()) {
        opt_in(&txn, practice.id, from.as_str()).await?;
        InboundOutcome::OptedIn
    } else if HELP_WORDS.contains(&word.as_str()) {
        let help = NewText {
            to: from.clone(),
            body: format!(
                "{}: texts about your pets' care. Reply STOP to stop them, START to get them again. \
                 Message and data rates may apply.",
                practice.name
            ),
            reason: "reply to HELP".into(),
            urgent: true,
            purpose: Purpose::Account,
            client_id: None,
        };
        enqueue(&txn, platform, &practice, help).await?;
        InboundOutcome::Helped
    } else {
        // From a known household: it lands in the household's conversation.
        if let Some(household) = client.as_ref().filter(|_| !inbound.body.trim().is_empty()) {
            let text = conversations::NewMessage {
                author: conversations::Author::Owner,
                channel: "sms",
                client_message_id: Some(inbound.sid.clone()),
                body: inbound.body.clone(),
                attachment_id: None,
            };
            let scope = Scope { practice_id: practice.id };
            stored_message = Some(conversations::append(&txn, platform, scope, household.id, text).await?);
        }
        InboundOutcome::Received { client_id: client.map(|c| c.id) }
    };
    txn.commit().await?;
    if let Some(appended) = stored_message.filter(|a| !a.replayed) {
        conversations::announce(platform, &appended).await;
    }
    Ok(outcome)
}
