//! Wellness plans: the practice's plan templates, plans and their
//! payments, and the page owners pay a declined payment on.

pub mod api;
pub mod pages;
pub mod pay_pages;
pub mod payments;
