//! Queueing a text from the practice's number, within the recipient's
//! daytime.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{
    DomainResult, Platform, Scope,
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{practice::Practice, text::Phone},
};

/// Non-urgent texts go out between these local hours only.
const DAY_STARTS: u32 = 8;
const DAY_ENDS: u32 = 21;

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
