//! Text messages: quiet hours, the opt-out list every sender honours, and
//! what arrives from the provider (inbound texts with their keywords, and
//! status reports on texts sent).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, sea_query::Expr};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Platform, Scope,
    chat::conversations,
    db::entities::{client, delivery, practice, sms_opt_out, text_message},
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{practice::Practice, text::Phone},
};

/// Non-urgent texts go out between these local hours only.
const DAY_STARTS: u32 = 8;
const DAY_ENDS: u32 = 21;

/// Keywords that stop every text to the sender (the carriers' list).
const STOP_WORDS: [&str; 8] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
const START_WORDS: [&str; 2] = ["START", "UNSTOP"];
const HELP_WORDS: [&str; 2] = ["HELP", "INFO"];

/// The provider's error for a number that opted out with it.
pub const OPTED_OUT_ERROR: &str = "21610";

/// The earliest moment at or after `now` inside the recipient's daytime
/// (08:00 to 21:00 in `zone`).
pub fn next_daytime<Z: TimeZone>(now: DateTime<Utc>, zone: &Z) -> DateTime<Utc> {
    let local = now.with_timezone(zone);
    let hour = chrono::Timelike::hour(&local.time());
    if (DAY_STARTS..DAY_ENDS).contains(&hour) {
        return now;
    }
    let day = if hour >= DAY_ENDS { local.date_naive() + Duration::days(1) } else { local.date_naive() };
    let morning = day.and_time(NaiveTime::from_hms_opt(DAY_STARTS, 0, 0).unwrap_or_default());
    // The earliest reading of 08:00 (a DST change never falls at 08:00, but stay safe).
    zone.from_local_datetime(&morning).earliest().map_or(now, |at| at.with_timezone(&Utc))
}

/// A text to queue.
#[derive(Debug, Clone)]
pub struct NewText {
    /// To whom.
    pub to: Phone,
    /// What it says.
    pub body: String,
    /// Why it is sent, shown to staff.
    pub reason: String,
    /// Urgent texts (a reply the owner asked for) ignore quiet hours.
    pub urgent: bool,
    /// What it is for.
    pub purpose: Purpose,
    /// The household it reaches, whose preferences apply.
    pub client_id: Option<Uuid>,
}

/// Queues a text from the practice's number, in the same transaction as
/// the change that causes it; a non-urgent one waits for the recipient's
/// daytime (the practice's time zone).
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    text: NewText,
) -> DomainResult<Uuid> {
    let now = platform.clock.now();
    let not_before = (!text.urgent).then(|| next_daytime(now, &practice.time_zone));
    outbox::enqueue(
        conn,
        platform,
        Scope { practice_id: practice.id },
        NewDelivery {
            channel: Channel::Sms,
            recipient: text.to.as_str().to_owned(),
            subject: None,
            body: text.body,
            data: serde_json::json!({ "from": practice.sms_number }),
            reason: text.reason,
            purpose: text.purpose,
            client_id: text.client_id,
            not_before,
            sealed: None,
        },
    )
    .await
}

/// Whether `phone` asked the practice to stop texting it.
pub async fn is_opted_out(platform: &Platform, practice_id: Uuid, phone: &str) -> DomainResult<bool> {
    Ok(sms_opt_out::Entity::find()
        .filter(sms_opt_out::Column::PracticeId.eq(practice_id))
        .filter(sms_opt_out::Column::Phone.eq(phone))
        .count(&platform.db)
        .await?
        > 0)
}

/// Stops every text to `phone` from the practice, at once; `source` says who
/// said so (`keyword` or `provider`). Saying it twice changes nothing.
pub async fn opt_out(platform: &Platform, practice_id: Uuid, phone: &str, source: &str) -> DomainResult<()> {
    record_opt_out(&platform.db, platform, practice_id, phone, source).await
}

/// [`opt_out`] on `conn`: within a service's transaction.
pub(crate) async fn record_opt_out(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice_id: Uuid,
    phone: &str,
    source: &str,
) -> DomainResult<()> {
    let row = sms_opt_out::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(practice_id),
        phone: Set(phone.to_owned()),
        source: Set(source.to_owned()),
        created_at: Set(platform.clock.now()),
    };
    sms_opt_out::Entity::insert(row)
        .on_conflict_do_nothing_on([sms_opt_out::Column::PracticeId, sms_opt_out::Column::Phone])
        .exec(conn)
        .await?;
    Ok(())
}

/// Texts to `phone` may go out again.
pub async fn opt_in(conn: &impl ConnectionTrait, practice_id: Uuid, phone: &str) -> DomainResult<()> {
    sms_opt_out::Entity::delete_many()
        .filter(sms_opt_out::Column::PracticeId.eq(practice_id))
        .filter(sms_opt_out::Column::Phone.eq(phone))
        .exec(conn)
        .await?;
    Ok(())
}

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

/// A provider's report on a text it was given.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The provider's message id.
    pub sid: String,
    /// `queued`, `sent`, `delivered`, `undelivered`, `failed`, …
    pub status: String,
    /// The provider's error code, if any.
    pub error_code: Option<String>,
}

/// Records what the provider says became of a text: undelivered or failed
/// texts are marked failed, and error 21610 opts the number out. Returns
/// false when no delivery has that id. Repeats change nothing.
pub async fn report(platform: &Platform, report: StatusReport) -> DomainResult<bool> {
    let Some(row) = delivery::Entity::find()
        .filter(delivery::Column::Channel.eq(Channel::Sms.as_str()))
        .filter(delivery::Column::ProviderId.eq(report.sid.as_str()))
        .one(&platform.db)
        .await?
    else {
        return Ok(false);
    };
    let txn = platform.begin_write().await?;
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::ProviderStatus, Expr::value(report.status.clone()))
        .filter(delivery::Column::Id.eq(row.id));
    if matches!(report.status.as_str(), "undelivered" | "failed") {
        let error =
            format!("provider reports {}: error {}", report.status, report.error_code.as_deref().unwrap_or("none"));
        update = update
            .col_expr(delivery::Column::Status, Expr::value(outbox::DeliveryStatus::Failed.as_str()))
            .col_expr(delivery::Column::LastError, Expr::value(error));
    }
    update.exec(&txn).await?;
    if report.error_code.as_deref() == Some(OPTED_OUT_ERROR) {
        record_opt_out(&txn, platform, row.practice_id, &row.recipient, "provider").await?;
    }
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denver(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::America::Denver
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn texts_wait_for_the_recipients_daytime() {
        let zone = chrono_tz::America::Denver;
        assert_eq!(next_daytime(denver(2026, 12, 2, 21, 30), &zone), denver(2026, 12, 3, 8, 0));
        assert_eq!(next_daytime(denver(2026, 12, 2, 6, 15), &zone), denver(2026, 12, 2, 8, 0));
        assert_eq!(next_daytime(denver(2026, 12, 2, 12, 0), &zone), denver(2026, 12, 2, 12, 0));
        assert_eq!(next_daytime(denver(2026, 12, 2, 20, 59), &zone), denver(2026, 12, 2, 20, 59));
        // The night the clocks go back (1 November 2026) still ends at 08:00.
        assert_eq!(next_daytime(denver(2026, 10, 31, 23, 0), &zone), denver(2026, 11, 1, 8, 0));
    }
}
