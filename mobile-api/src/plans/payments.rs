//! The household's card and payments in the app API (PLANS.md B4, B6):
//! replacing the card through the gateway's own fields (the app's Stripe
//! SDK), which then pays what was declined, and paying a declined payment.

use petbridge_domain::{
    Actor, Origin, Platform,
    kernel::caller::Authorized,
    payments::{
        charges,
        profiles::{self, TakesOver},
    },
};
use petbridge_http::{
    ApiResult,
    fields::Text,
    payments::{CardSetupStart, ChargeOutcomeView, PaymentCard},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{OwnerAuth, household_id},
    tags::Tag,
};

/// The setup the gateway's card fields confirmed.
#[derive(Debug, Object)]
pub struct CardConfirmed {
    /// `seti_…`, from beginCardReplacement.
    pub setup_intent: Text<1, 255>,
}

/// The new card, and what it paid.
#[derive(Debug, Object)]
pub struct ReplacedCard {
    /// The card every plan of the household charges from now.
    pub card: PaymentCard,
    /// What trying each declined payment again on it came to.
    pub retried: Vec<ChargeOutcomeView>,
}

/// Saved.
#[derive(ApiResponse)]
pub enum CardReplaced {
    /// The card is saved and in use.
    #[oai(status = 201)]
    Created(Json<ReplacedCard>),
}

/// This feature's operations of the app API.
pub struct PaymentsApi;

#[OpenApi]
impl PaymentsApi {
    /// Start replacing the household's card: show the gateway's card fields
    /// (Stripe's SDK) with this, confirm the setup there, then send it to
    /// replaceCard. The card's number never reaches this server.
    #[oai(path = "/payment-card/setup", method = "post", tag = "Tag::Payments", operation_id = "beginCardReplacement")]
    async fn begin(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<CardSetupStart>> {
        let household = household_id(&platform, &auth).await?;
        Ok(Json(profiles::begin(&platform, auth.0.scope(), household).await?.into()))
    }

    /// Replace the household's card with the one a setup confirmed: every
    /// plan charges it from now, and what was declined is tried on it at once.
    #[oai(path = "/payment-card", method = "post", tag = "Tag::Payments", operation_id = "replaceCard")]
    async fn replace(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<CardConfirmed>,
    ) -> ApiResult<CardReplaced> {
        let household = household_id(&platform, &auth).await?;
        let owner = Authorized { actor: Actor::owner_in_app(), approver: None };
        let setup = body.0.setup_intent.into_inner();
        let card = (household, setup.as_str());
        let saved =
            profiles::save(&platform, auth.0.scope(), &owner, &Origin::default(), card, TakesOver::AllPlans).await?;
        Ok(CardReplaced::Created(Json(ReplacedCard {
            card: saved.profile.into(),
            retried: saved.retried.into_iter().map(ChargeOutcomeView::from).collect(),
        })))
    }

    /// Pay a declined payment of one of the household's plans now, on the
    /// plan's card.
    #[oai(path = "/plan-payments/:id/pay", method = "post", tag = "Tag::Payments", operation_id = "payOwedPayment")]
    async fn pay(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ChargeOutcomeView>> {
        let household = household_id(&platform, &auth).await?;
        Ok(Json(charges::pay_owed(&platform, auth.0.scope(), (household, id.0), &Actor::owner_in_app()).await?.into()))
    }
}
