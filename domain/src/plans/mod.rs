//! Wellness plans (PLANS.md §A): the practice's plan templates with their
//! versioned items, the plans sold on them, what managers do to a plan
//! after (hold, release, change, cancel), their renewals, and staff notes.

pub mod enrolment;
pub mod lifecycle;
pub mod notes;
pub mod renewals;
pub mod templates;
