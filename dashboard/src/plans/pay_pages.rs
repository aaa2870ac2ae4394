//! The page an owner opens from a dunning email to pay a declined plan
//! payment, without logging in: the link's signed token names the payment.
//! A GET only shows (mail scanners open links); paying takes a POST. The
//! card fields and the bank's confirmation are the gateway's own script,
//! so no card number reaches this server.

use askama::Template;
use petbridge_domain::{
    Platform,
    db::entities::plan_payment::PaymentStatus,
    kernel::text::dollars,
    payments::{
        charges::Charged,
        pay_links::{self, Owed},
    },
};
use petbridge_http::payments::CardSetupStart;
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Json, Path, Query},
};
use poem_openapi::types::ToJSON;
use serde::Deserialize;
use serde_json::json;

use crate::kit::{
    auth::private_page,
    chrome::{DoneQuery, problem, render},
};

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    token: String,
    owed: Owed,
    said: Option<String>,
}

impl PayPage {
    fn amount(&self) -> String {
        dollars(self.owed.amount_cents)
    }

    /// Whether the owner may still pay it.
    fn owed_now(&self) -> bool {
        matches!(self.owed.status, PaymentStatus::Failed | PaymentStatus::PastDue)
    }

    fn settled(&self) -> &'static str {
        match self.owed.status {
            PaymentStatus::Paid | PaymentStatus::PaidExternal => "This payment is paid. Thank you!",
            PaymentStatus::Processing => "This payment is being charged: look again in a minute.",
            PaymentStatus::Scheduled => "This payment is not due yet: it is charged on its day.",
            _ => "This payment is no longer owed.",
        }
    }
}

/// What a charge came to, as the owner reads it.
fn in_words(charged: &Charged) -> String {
    match charged {
        Charged::Paid => "Paid. Thank you!".to_owned(),
        Charged::Declined { .. } => "The card was declined again. Please use another card.".to_owned(),
        Charged::AuthenticationRequired => "Your bank asks you to confirm this payment.".to_owned(),
        Charged::Pending => "The payment is being processed: look again in a minute.".to_owned(),
    }
}

async fn show(platform: &Platform, token: String, said: Option<String>) -> poem::Result<Response> {
    let owed = pay_links::open(platform, &token).await.map_err(problem)?;
    render(&PayPage { token, owed, said })
}

#[handler]
pub(crate) async fn page(
    platform: Data<&Platform>,
    Path(token): Path<String>,
    Query(query): Query<DoneQuery>,
) -> poem::Result<Response> {
    show(&platform, token, query.done).await
}

/// "Pay now" on the card on file.
#[handler]
pub(crate) async fn pay(platform: Data<&Platform>, Path(token): Path<String>) -> poem::Result<Response> {
    let charged = pay_links::pay(&platform, &token).await.map_err(problem)?;
    show(&platform, token, Some(in_words(&charged))).await
}

/// Starts another card: what the gateway's card fields need.
#[handler]
pub(crate) async fn card_setup(platform: Data<&Platform>, Path(token): Path<String>) -> poem::Result<Response> {
    let setup = pay_links::begin_card(&platform, &token).await.map_err(problem)?;
    // The same answer as the staff and app APIs' card setup.
    let body = CardSetupStart::from(setup).to_json();
    Ok(private_page(Json(body).into_response()))
}

/// The setup the gateway's card fields confirmed.
#[derive(Deserialize)]
pub(crate) struct CardConfirmed {
    setup_intent: String,
}

/// Saves the other card, which then pays what was declined.
#[handler]
pub(crate) async fn card(
    platform: Data<&Platform>,
    Path(token): Path<String>,
    Json(body): Json<CardConfirmed>,
) -> poem::Result<Response> {
    let saved = pay_links::save_card(&platform, &token, &body.setup_intent).await.map_err(problem)?;
    let said: Vec<String> = saved.retried.iter().map(in_words).collect();
    let body = json!({
        "card": { "brand": saved.profile.brand, "last4": saved.profile.last4 },
        "said": said.first().cloned().unwrap_or_else(|| "The card is saved.".to_owned()),
    });
    Ok(private_page(Json(body).into_response()))
}

/// After the bank's confirmation in the gateway's script.
#[handler]
pub(crate) async fn confirmed(platform: Data<&Platform>, Path(token): Path<String>) -> poem::Result<Response> {
    let charged = pay_links::confirmed(&platform, &token).await.map_err(problem)?;
    Ok(private_page(Json(json!({ "said": in_words(&charged) })).into_response()))
}
