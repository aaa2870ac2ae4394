//! Payments through the gateway (PLANS.md §B): the cards clients save with
//! it, charging each payment exactly once, and what a decline leads to:
//! the owner told with a link to pay, and the staff's daily digest.

pub mod actions;
pub mod charges;
pub mod digest;
pub mod dunning;
pub mod pay_links;
pub mod profiles;
pub mod refunds;
pub mod webhooks;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{Code, DomainError, DomainResult, Scope, db::entities::plan, ports::payments::GatewayError};

/// A charge or refund the gateway has not answered for this long is asked
/// again, with the same key, by the reconciler (longer than any one call
/// may take).
pub const RECONCILE_AFTER: chrono::Duration = chrono::Duration::minutes(2);

/// How long the gateway keeps an idempotency key (Stripe: 24 hours), less
/// an hour's margin: a charge or refund unanswered for longer is never sent
/// again (the same key could then charge or refund twice); staff look it up.
pub const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(23);

/// Plan `id` of the practice, or not found.
pub(crate) async fn plan_in(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<plan::Model> {
    plan::Entity::find_by_id(id)
        .filter(plan::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

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
