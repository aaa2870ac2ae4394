//! What a declined charge leads to (PLANS.md B6): a soft decline is tried
//! again on the practice's retry days, a hard one (the card is lost,
//! stolen, expired or its number wrong) is not, since trying again cannot
//! help and card networks fine merchants who keep trying. Either way the
//! owner is told, in their daytime, with a link to pay, confirm with their
//! bank or give another card.

use chrono::{Days, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    DomainError, DomainResult, Platform, Scope,
    db::entities::{
        client, delivery::SEALED, owner_account, payment_profile, pet, plan, plan_payment, plan_template_version,
    },
    deliveries::{
        links::{self, LinkPurpose},
        outbox::{self, Channel, NewDelivery, Purpose, PushMessage},
    },
    kernel::{practice::Practice, text::dollars},
    texting::sending::next_daytime,
};

/// The reason of a charge the gateway refused as a request (a card it no
/// longer has, a parameter it will not take): asking again will not help.
pub const GATEWAY_REFUSED: &str = "gateway_refused";

/// The reason of a charge the gateway never answered within its 24-hour
/// idempotency window: asking again could charge twice, so nothing is
/// tried by itself and staff look it up at the gateway.
pub const GATEWAY_NO_ANSWER: &str = "gateway_no_answer";

/// Decline reasons no retry can cure: the owner must give another card.
const HARD_DECLINES: [&str; 11] = [
    GATEWAY_REFUSED,
    GATEWAY_NO_ANSWER,
    "lost_card",
    "stolen_card",
    "expired_card",
    "incorrect_number",
    "invalid_number",
    "pickup_card",
    "restricted_card",
    "invalid_account",
    "card_not_supported",
];

/// The reason of a charge the owner's bank wants them to confirm.
pub const AUTHENTICATION_REQUIRED: &str = "authentication_required";

/// Whether the owner is told of a charge that ended for `reason` (not for
/// one whose outcome is unknown to us: staff look that up first).
pub fn told(reason: &str) -> bool {
    reason != GATEWAY_NO_ANSWER
}

/// Whether a charge declined for `reason` is worth trying again.
pub fn retried(reason: &str) -> bool {
    !HARD_DECLINES.contains(&reason) && reason != AUTHENTICATION_REQUIRED
}

/// A decline reason as an owner reads it.
fn in_words(reason: &str) -> &'static str {
    match reason {
        AUTHENTICATION_REQUIRED => "your bank asks you to confirm it yourself",
        "insufficient_funds" => "the bank declined it for insufficient funds",
        "expired_card" => "the card has expired",
        "lost_card" | "stolen_card" | "pickup_card" => "the bank reports the card lost or stolen",
        "incorrect_number" | "invalid_number" | "invalid_account" => "the bank does not know the card's number",
        GATEWAY_REFUSED => "the card can no longer be charged",
        GATEWAY_NO_ANSWER => "our payment provider did not answer",
        _ => "the bank declined it",
    }
}

/// The address of the page where the owner pays payment `id`.
pub fn pay_link(platform: &Platform, key: &[u8], id: Uuid) -> DomainResult<String> {
    Ok(platform.link(&format!("/pay/{}", links::token(key, LinkPurpose::Payment, id)?)))
}

/// Tells the owner of `payment` that its charge did not go through for
/// `reason`, and when it is tried again: by push where the app is
/// installed and by email, each as their preferences allow, in their
/// daytime. The email's link (sealed: staff never see it) opens the page
/// where they pay, confirm the charge with their bank or give another
/// card; the push opens the app's payments. On `conn`: the transaction
/// that settled the charge. `key` signs links ([`links::link_key`]).
pub(crate) async fn tell_owner(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    (payment, key): (&plan_payment::Model, &[u8]),
    reason: &str,
    retry_on: Option<NaiveDate>,
) -> DomainResult<()> {
    let scope = Scope { practice_id: practice.id };
    let plan = plan::Entity::find_by_id(payment.plan_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let household = client::Entity::find_by_id(plan.client_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let pet_name = pet::Entity::find_by_id(plan.pet_id).one(conn).await?.map(|p| p.name).unwrap_or_default();
    let plan_name =
        plan_template_version::Entity::find_by_id(plan.version_id).one(conn).await?.map(|v| v.name).unwrap_or_default();
    let card = match plan.payment_profile_id {
        Some(id) => payment_profile::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    let confirm = reason == AUTHENTICATION_REQUIRED;
    let amount = dollars(payment.amount_cents);
    let on_card = card.map(|c| format!(" on the {} card ending {}", c.brand, c.last4)).unwrap_or_default();
    let next = match retry_on {
        _ if confirm => "It is not charged again until you confirm it.".to_owned(),
        Some(day) => format!("We will try the card again on {day}; you can pay now instead."),
        None => "We will not try this card again: please pay it, or give us another card.".to_owned(),
    };
    let title = if confirm {
        format!("Please confirm {pet_name}'s plan payment")
    } else {
        format!("{pet_name}'s plan payment did not go through")
    };
    let said = format!("We tried to take {amount} for {pet_name}'s {plan_name}{on_card}, and {}.", in_words(reason));
    let not_before = Some(next_daytime(platform.clock.now(), &practice.time_zone));
    let account = owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(household.id))
        .filter(owner_account::Column::DisabledAt.is_null())
        .one(conn)
        .await?;
    if let Some(account) = account {
        let data = serde_json::json!({
            "kind": "payment_due", "payment_id": payment.id, "plan_id": plan.id,
            "action": if confirm { "confirm" } else { "pay" },
        });
        let message = PushMessage {
            title: title.clone(),
            body: format!("{said} {next}"),
            data: data.as_object().cloned().unwrap_or_default(),
            image_url: None,
            reason: "declined plan payment".to_owned(),
            purpose: Purpose::Notification,
            not_before,
            sealed: None,
        };
        outbox::enqueue_push(conn, platform, scope, account.id, message).await?;
    }
    if let Some(email) = household.email.clone() {
        let greeting = if household.first_name.is_empty() { "there" } else { &household.first_name };
        let action = if confirm { "Confirm it with your bank" } else { "Pay it now or use another card" };
        let body = format!(
            "Hello {greeting},\n\n{said} {next}\n\n{action}: {SEALED}\n\nQuestions? Reply to this email or call {}.\n",
            practice.name
        );
        let new = NewDelivery {
            channel: Channel::Email,
            recipient: email,
            subject: Some(title),
            body,
            data: serde_json::json!({ "template": "payment_due", "link": SEALED, "payment_id": payment.id }),
            reason: "declined plan payment".to_owned(),
            purpose: Purpose::Notification,
            client_id: Some(household.id),
            not_before,
            sealed: Some(pay_link(platform, key, payment.id)?),
        };
        outbox::enqueue(conn, platform, scope, new).await?;
    }
    Ok(())
}

/// The day a payment declined `failures` times (the latest `today`) is tried
/// again: `retry_days` after its first decline; none once they are used up.
pub fn next_retry(retry_days: &[u32], failures: i32, today: NaiveDate) -> Option<NaiveDate> {
    let n = usize::try_from(failures).ok()?.checked_sub(1)?;
    let next = *retry_days.get(n)?;
    let previous = n.checked_sub(1).and_then(|p| retry_days.get(p)).copied().unwrap_or(0);
    today.checked_add_days(Days::new(u64::from(next.saturating_sub(previous).max(1))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::practice::PaymentSettings;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, d).unwrap_or_default()
    }

    #[test]
    fn retries_fall_three_seven_and_fourteen_days_after_the_first_decline() {
        let retry_days = PaymentSettings::default().retry_days;
        let first = next_retry(&retry_days, 1, day(1));
        assert_eq!(first, Some(day(4)));
        let second = next_retry(&retry_days, 2, day(4));
        assert_eq!(second, Some(day(8)));
        let third = next_retry(&retry_days, 3, day(8));
        assert_eq!(third, Some(day(15)));
        assert_eq!(next_retry(&retry_days, 4, day(15)), None, "three retries, then past due");
    }

    #[test]
    fn hard_declines_are_not_retried() {
        assert!(retried("insufficient_funds"));
        assert!(retried("card_declined"));
        assert!(!retried("stolen_card"));
        assert!(!retried("expired_card"));
        assert!(!retried("authentication_required"), "the owner confirms it instead");
        assert!(!retried(GATEWAY_REFUSED));
    }
}
