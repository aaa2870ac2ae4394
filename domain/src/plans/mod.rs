//! Wellness plans (PLANS.md §A): the practice's plan templates with their
//! versioned items, the plans sold on them, what managers do to a plan
//! after (hold, release, change, cancel), their renewals, and staff notes.

pub mod agreements;
pub mod enrolment;
pub mod lifecycle;
pub mod notes;
pub mod records;
pub mod renewals;
pub mod templates;

/// Cents as owners and staff read money: `4900` → `$49.00`, `-105` → `−$1.05`.
pub(crate) fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    format!("{sign}${}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dollars_read_as_money() {
        assert_eq!(super::dollars(4_900), "$49.00");
        assert_eq!(super::dollars(5), "$0.05");
        assert_eq!(super::dollars(-105), "−$1.05");
    }
}
