//! Values parsed once at the edge and trusted everywhere after.

use crate::{Code, DomainError, DomainResult};

/// Cents as owners and staff read money: `4900` → `$49.00`, `-105` → `−$1.05`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    format!("{sign}${}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// The most characters a name has: a person's, a pet's, a reward's, a key's.
pub const MAX_NAME_CHARS: usize = 100;

/// A staff user name: 3 to 64 characters of letters, digits, `.`, `_`, `-`,
/// compared case-insensitively (stored lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// What [`Username::parse`] takes, as a regular expression (the API documents state it).
    pub const PATTERN: &'static str = r"^\s*[A-Za-z0-9._-]{3,64}\s*$";

    /// Parses and normalises a user name.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let name = raw.trim().to_lowercase();
        let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !(3..=64).contains(&name.chars().count()) || !valid_chars {
            return Err(DomainError::with(
                Code::InvalidUsername,
                "a user name has 3 to 64 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed and checked for one `@` with text on both sides
/// and a dot in the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The longest address, in bytes (RFC 5321's path limit less its brackets).
    pub const MAX_CHARS: usize = 254;

    /// Parses an address; the domain part is lower-cased.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let raw = raw.trim();
        let invalid = || DomainError::with(Code::InvalidEmail, "not an email address");
        let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok =
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains("..");
        if local.is_empty()
            || local.contains('@')
            || !domain_ok
            || raw.len() > Self::MAX_CHARS
            || raw.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits). Ten digits
/// without a country code are read as a North American number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// The characters [`Phone::parse`] reads, as a regular expression (the API documents state it).
    pub const PATTERN: &'static str = r"^\s*\+?[0-9 ().-]*\s*$";

    /// Parses a number written with spaces, dashes, dots or brackets.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let raw = raw.trim();
        let invalid = || DomainError::with(Code::InvalidPhone, "not a phone number (E.164, e.g. +13035550123)");
        if raw.chars().any(|c| !(c.is_ascii_digit() || " -.()+".contains(c))) || raw.rfind('+').is_some_and(|at| at > 0)
        {
            return Err(invalid());
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let number = match (raw.starts_with('+'), digits.len()) {
            (true, 8..=15) => digits,
            (false, 10) => format!("1{digits}"),
            (false, 11) if digits.starts_with('1') => digits,
            _ => return Err(invalid()),
        };
        Ok(Self(format!("+{number}")))
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A practice's short code, used in URLs and on the login form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeSlug(String);

impl PracticeSlug {
    /// Parses a slug: 2 to 48 lower-case letters, digits and single dashes.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let slug = raw.trim().to_lowercase();
        let valid = (2..=48).contains(&slug.len())
            && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !slug.starts_with('-')
            && !slug.ends_with('-')
            && !slug.contains("--");
        if !valid {
            return Err(DomainError::with(
                Code::InvalidPracticeCode,
                "a practice code has 2 to 48 lower-case letters, digits and dashes",
            ));
        }
        Ok(Self(slug))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most combining marks one character may carry. Real scripts stack a
/// few (Vietnamese two, pointed Hebrew three or four); "Zalgo" text stacks
/// dozens, drawing over the lines around it.
pub const MAX_COMBINING_MARKS: usize = 5;

/// Why text someone sent cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    /// A control character (NUL, escape, …): only line breaks and tabs pass.
    Control,
    /// More than [`MAX_COMBINING_MARKS`] combining marks in a row.
    StackedMarks,
}

impl TextProblem {
    /// Its stable error code.
    pub fn code(self) -> crate::Code {
        match self {
            Self::Control => crate::Code::ControlCharacters,
            Self::StackedMarks => crate::Code::StackedMarks,
        }
    }

    /// What is wrong, after the field's name.
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Control => "may not hold control characters",
            Self::StackedMarks => "may not stack that many combining marks on one letter",
        }
    }
}

/// Checks text from outside (a name, a note, a chat message) before it is
/// stored and shown to others.
pub fn check_text(text: &str) -> Result<(), TextProblem> {
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    let mut marks = 0;
    for c in text.chars() {
        if c.general_category() == GeneralCategory::Control && !matches!(c, '\n' | '\r' | '\t') {
            return Err(TextProblem::Control);
        }
        if c.general_category_group() == GeneralCategoryGroup::Mark {
            marks += 1;
            if marks > MAX_COMBINING_MARKS {
                return Err(TextProblem::StackedMarks);
            }
        } else {
            marks = 0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn dollars_read_as_money() {
        assert_eq!(dollars(4_900), "$49.00");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(-105), "−$1.05");
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Dr.Smith ").map(|u| u.0).ok(), Some("dr.smith".into()));
        for bad in ["ab", "has space", "semi;colon", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_keep_local_part_and_lower_domain() {
        assert_eq!(Email::parse(" Jane.Doe@Example.COM ").map(|e| e.0).ok(), Some("Jane.Doe@example.com".into()));
        for bad in ["", "no-at", "@x.com", "a@b", "a@.com", "a@b..com", "a b@c.com", "a@b.com."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_parse_to_e164() {
        assert_eq!(Phone::parse("(303) 555-0123").ok().map(|p| p.0), Some("+13035550123".to_owned()));
        assert_eq!(Phone::parse("+44 20 7946 0958").ok().map(|p| p.0), Some("+442079460958".to_owned()));
        assert!(Phone::parse("555-0123").is_err());
        assert!(Phone::parse("call me").is_err());
        assert!(Phone::parse("12+34567890").is_err());
    }

    #[test]
    fn practice_codes() {
        assert!(PracticeSlug::parse("demo-animal-hospital").is_ok());
        for bad in ["-x", "x-", "a--b", "A B", "é", "a"] {
            assert!(PracticeSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_and_mark_stacks_are_refused_and_real_scripts_pass() {
        for good in ["Bella", "Zoë", "Nguyễn Thị Ánh", "שָׁלוֹם", "नमस्ते", "line one\nline two\ttab", "\u{202e}evil"]
        {
            assert_eq!(check_text(good), Ok(()), "{good}");
        }
        assert_eq!(check_text("nul\u{0}"), Err(TextProblem::Control));
        assert_eq!(check_text("esc\u{1b}[31m"), Err(TextProblem::Control));
        assert_eq!(check_text("c1\u{85}"), Err(TextProblem::Control));
        let zalgo: String = std::iter::once('Z').chain(std::iter::repeat_n('\u{0336}', 6)).collect();
        assert_eq!(check_text(&zalgo), Err(TextProblem::StackedMarks));
        let five: String = std::iter::once('a').chain(std::iter::repeat_n('\u{0301}', 5)).collect();
        assert_eq!(check_text(&five), Ok(()));
    }
}
