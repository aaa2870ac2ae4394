//! What a declined charge leads to (PLANS.md B6): a soft decline is tried
//! again on the practice's retry days, a hard one (the card is lost,
//! stolen, expired or its number wrong) is not, since trying again cannot
//! help and card networks fine merchants who keep trying.

use chrono::{Days, NaiveDate};

/// The reason of a charge the gateway refused as a request (a card it no
/// longer has, a parameter it will not take): asking again will not help.
pub const GATEWAY_REFUSED: &str = "gateway_refused";

/// Decline reasons no retry can cure: the owner must give another card.
const HARD_DECLINES: [&str; 10] = [
    GATEWAY_REFUSED,
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

/// Whether a charge declined for `reason` is worth trying again.
pub fn retried(reason: &str) -> bool {
    !HARD_DECLINES.contains(&reason) && reason != "authentication_required"
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
