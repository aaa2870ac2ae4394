//! Payments through the gateway (PLANS.md §B): the cards clients save with
//! it, charging each payment exactly once, and what a decline leads to.

pub mod charges;
pub mod dunning;
pub mod profiles;
pub mod webhooks;

use crate::{Code, DomainError, ports::payments::GatewayError};

impl From<GatewayError> for DomainError {
    fn from(err: GatewayError) -> Self {
        match err {
            GatewayError::NotConfigured => DomainError::from(Code::PaymentsNotConfigured),
            GatewayError::Unavailable(why) => {
                DomainError::with(Code::PaymentGatewayUnavailable, format!("the payment gateway did not answer: {why}"))
            }
            GatewayError::Refused { code, message } => {
                DomainError::with(Code::GatewayRefused, format!("the payment gateway refused ({code}): {message}"))
            }
        }
    }
}
