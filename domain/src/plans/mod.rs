//! Wellness plans (PLANS.md §A): the practice's plan templates with their
//! versioned items, and (to come) the plans sold on them.

pub mod enrolment;
pub mod templates;
