//! The healthcare agreement of a wellness plan (PLANS.md A12), typeset to
//! PDF in-process by Typst.
//!
//! The caller gives every figure already worded ([`Agreement`]); this crate
//! only lays it out. The same input gives the same bytes: no clock, no
//! system fonts, no random document id, so a stored agreement's SHA-256
//! proves which text the owner was shown.

mod world;

use serde::Serialize;

/// Everything an agreement says, worded for the owner.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Agreement {
    /// A reference that names this agreement for good, such as
    /// `WP-K9-ADULT v3 · agreement 2`.
    pub reference: String,
    /// When it was issued, worded (`7 December 2026`).
    pub issued_on: String,
    /// Why it was issued: `enrolment`, `change` or `renewal`.
    pub occasion: String,
    /// The practice that provides the care.
    pub practice: Practice,
    /// The account holder who agrees and pays.
    pub owner: Person,
    /// A second owner who signs too, when there is one.
    pub co_owner: Option<String>,
    /// The pet the plan covers.
    pub pet: Pet,
    /// The plan's terms.
    pub plan: Terms,
    /// The care the plan includes.
    pub items: Vec<Item>,
    /// Each payment the plan schedules, in date order.
    pub schedule: Vec<Instalment>,
    /// The practice's own wording for this plan (the template's agreement text).
    pub practice_terms: String,
    /// What happens when the plan is cancelled, under the policy in force.
    pub cancellation_terms: String,
    /// How the plan renews, under the rules in force.
    pub renewal_terms: String,
    /// What the owner authorises the practice to charge.
    pub authorisation: Authorisation,
}

/// The practice's letterhead.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Practice {
    /// Its name.
    pub name: String,
    /// Ways to reach it (address, phone, email), one line each.
    pub contact: Vec<String>,
}

/// An owner.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Person {
    /// Full name.
    pub name: String,
    /// Ways to reach them, one line each.
    pub contact: Vec<String>,
}

/// The pet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pet {
    /// Its name.
    pub name: String,
    /// Species, breed, sex and birth date, as far as known, one line.
    pub description: String,
}

/// The plan's terms.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Terms {
    /// The plan's name.
    pub name: String,
    /// The plan's code and version (`WP-K9-ADULT, version 3`).
    pub code: String,
    /// The term (`1 January 2027 to 31 December 2027 (12 months)`).
    pub term: String,
    /// How it is paid (`12 monthly payments of $39.00`).
    pub billing: String,
    /// The enrolment fee (`$49.00`, or `waived`).
    pub enrolment_fee: String,
    /// What the whole term costs, fee included.
    pub total: String,
}

/// One line of the items table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// The practice's service code.
    pub code: String,
    /// What it is.
    pub description: String,
    /// How many the term includes (`2`, `unlimited`).
    pub quantity: String,
}

/// One payment of the schedule.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Instalment {
    /// Its due date, worded.
    pub due_on: String,
    /// What it is for (`Enrolment fee`, `Payment 3 of 12`).
    pub label: String,
    /// Its amount, worded.
    pub amount: String,
}

/// The owner's authority to charge their card.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Authorisation {
    /// How much each charge is (`$39.00`).
    pub amount: String,
    /// How often (`on the 1st of each month, 12 times`).
    pub frequency: String,
    /// The card's last four digits, when a card is on file.
    pub card_last4: Option<String>,
    /// How the owner withdraws it.
    pub how_to_cancel: String,
}

/// Why an agreement could not be typeset: a fault of this crate's template,
/// never of the caller's text (which is only ever shown, not evaluated).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Typst rejected the template.
    #[error("the agreement could not be typeset: {0}")]
    Typeset(String),
    /// The PDF writer failed.
    #[error("the agreement could not be written as PDF: {0}")]
    Pdf(String),
}

/// Typesets `agreement` to PDF: CPU work of about 20 ms a page or two, so
/// async callers run it on a blocking thread.
pub fn render(agreement: &Agreement) -> Result<Vec<u8>, RenderError> {
    world::render(agreement)
}
