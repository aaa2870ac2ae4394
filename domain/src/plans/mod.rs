//! Wellness plans (PLANS.md §A): the practice's plan templates with their
//! versioned items, the plans sold on them, what managers do to a plan
//! after (hold, release, change, cancel), their renewals, and staff notes.

pub mod agreements;
pub mod enrolment;
pub mod final_failures;
pub mod lifecycle;
pub mod notes;
pub mod records;
pub mod renewals;
pub mod templates;
