//! `/hooks/payments`: the payment gateway's webhooks, each refused with 401
//! unless its `Stripe-Signature` proves the gateway sent it lately
//! (`payments::webhooks` checks, stores and applies it).

use std::sync::Arc;

use petbridge_domain::{Platform, payments::webhooks};
use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, handler, post,
    web::{Data, Json},
};
use secrecy::{ExposeSecret, SecretString};

/// The webhook endpoint's signing secret (`whsec_…`); without one every
/// webhook is refused.
#[derive(Clone)]
pub struct PaymentHooks {
    /// The secret.
    pub secret: Option<SecretString>,
}

/// The endpoint.
pub fn hooks(config: PaymentHooks) -> impl poem::Endpoint<Output = Response> {
    Route::new().at("/", post(payment_hook)).data(Arc::new(config)).map_to_response()
}

#[handler]
async fn payment_hook(
    request: &Request,
    body: Vec<u8>,
    hooks: Data<&Arc<PaymentHooks>>,
    platform: Data<&Platform>,
) -> Response {
    let secret = hooks.secret.as_ref().map(|s| s.expose_secret());
    let signature = request.header("stripe-signature");
    match webhooks::receive(&platform, secret, signature, &body).await {
        Ok(received) => {
            tracing::info!(?received, "payment webhook");
            Json(serde_json::json!({ "received": true })).into_response()
        }
        Err(err) => petbridge_http::ApiError::from(err).into_response(),
    }
}
