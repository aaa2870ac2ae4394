//! Text messages: quiet hours, the opt-out list every sender honours, and
//! what arrives from the provider (inbound texts with their keywords, and
//! status reports on texts sent).

pub mod keywords;
pub mod opt_outs;
pub mod reports;
pub mod sending;
