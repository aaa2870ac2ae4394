//! Card numbers, to keep them out (PLANS.md B4): cards are typed into the
//! payment gateway's own fields, so a card number in anything sent to us,
//! or written by us, is a mistake to refuse or an alarm to raise.

/// Whether `text` holds what reads as a card number: 13 to 19 digits,
/// together or in groups split by single spaces or dashes, that pass the
/// Luhn check, standing alone (not part of a word, an id, a decimal or a
/// `+` phone number).
pub fn contains_card_number(text: &[u8]) -> bool {
    let mut at = 0;
    while at < text.len() {
        if !text[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let start = at;
        let mut digits = Vec::with_capacity(19);
        while at < text.len() {
            let byte = text[at];
            if byte.is_ascii_digit() {
                digits.push(byte - b'0');
                at += 1;
            } else if matches!(byte, b' ' | b'-') && text.get(at + 1).is_some_and(u8::is_ascii_digit) {
                at += 1;
            } else {
                break;
            }
        }
        let before = start.checked_sub(1).map(|i| text[i]);
        let after = text.get(at).copied();
        let joined =
            |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'_' | b'-'));
        if (13..=19).contains(&digits.len()) && !joined(before) && !joined(after) && luhn(&digits) {
            return true;
        }
    }
    false
}

/// The Luhn checksum every card number carries.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::contains_card_number as found;

    #[test]
    fn card_numbers_are_found_however_they_are_written() {
        assert!(found(b"4242424242424242"));
        assert!(found(br#"{"note": "card 4242 4242 4242 4242 exp 12/30"}"#));
        assert!(found(b"pay with 4000-0566-5566-5556 please"));
        assert!(found(b"amex=378282246310005&x=1"), "15 digits");
        assert!(found(b"4242424242424242428"), "19 digits");
    }

    #[test]
    fn other_numbers_are_not() {
        assert!(!found(b"4242424242424241"), "fails the Luhn check");
        assert!(!found(b"+13035550100"), "a phone number");
        assert!(!found(b"+8613812345670"), "a long phone number");
        assert!(!found(b"424242424242"), "12 digits");
        assert!(!found(b"42424242424242424242"), "20 digits");
        assert!(!found(b"0.4242424242424242"), "a decimal");
        assert!(!found(b"pm_4242424242424242"), "part of an id");
        assert!(!found(b"42424242-4242-4242-a242-424242424242"), "a UUID");
        assert!(!found(b"12345678-1234-4234-8234-123456789012"), "an all-digit UUID");
        assert!(!found(b"2026-12-07T16:52:02Z"));
    }
}
