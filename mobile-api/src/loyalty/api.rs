//! Loyalty in the app API: the paw card, rewards, and asking for one.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    db::entities::{paw_entry, reward, reward_request},
    loyalty,
};
use petbridge_http::{ApiResult, fields::Stored};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{OwnerAuth, household_id},
    tags::Tag,
};

/// A reward the practice offers.
#[derive(Debug, Object)]
pub struct Reward {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Paws it takes.
    pub paws_needed: i32,
    /// Whether the balance covers it now.
    pub affordable: bool,
}

/// A reward request.
#[derive(Debug, Object)]
pub struct RewardRequest {
    /// Id.
    pub id: Uuid,
    /// The reward, as it was named then.
    pub reward_name: String,
    /// Paws it took (given back if declined).
    pub paws: i32,
    /// Whether the practice has decided.
    pub status: Stored<reward_request::Status>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the practice decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<reward_request::Model> for RewardRequest {
    fn from(r: reward_request::Model) -> Self {
        Self {
            id: r.id,
            reward_name: r.reward_name,
            paws: r.paws,
            status: r.status.into(),
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

/// One line of the paw history.
#[derive(Debug, Object)]
pub struct PawEntry {
    /// Id.
    pub id: Uuid,
    /// Paws added (positive) or taken (negative).
    pub paws: i32,
    /// `earned`, `redeemed`, `refunded` or `reversed`.
    pub kind: String,
    /// What it was for.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<paw_entry::Model> for PawEntry {
    fn from(e: paw_entry::Model) -> Self {
        Self { id: e.id, paws: e.paws, kind: e.kind, reason: e.reason, created_at: e.created_at }
    }
}

/// The paw card.
#[derive(Debug, Object)]
pub struct PawCard {
    /// Paws to spend.
    pub balance: i32,
    /// The rewards on offer, cheapest first.
    pub rewards: Vec<Reward>,
    /// Requests, newest first.
    pub requests: Vec<RewardRequest>,
    /// The paw history, newest first.
    pub history: Vec<PawEntry>,
}

/// Ask for a reward.
#[derive(Debug, Object)]
pub struct NewRewardRequest {
    /// The reward.
    pub reward_id: Uuid,
    /// An id the app makes for this request: sending it again returns the
    /// same request instead of spending paws twice.
    pub id: Option<Uuid>,
}

/// A reward request.
#[derive(ApiResponse)]
enum RewardRequested {
    /// Made now; its paws are held until the practice decides.
    #[oai(status = 201)]
    Created(Json<RewardRequest>),
    /// Made before with the same id: that request.
    #[oai(status = 200)]
    Replayed(Json<RewardRequest>),
}

/// This feature's operations of the app API.
pub struct LoyaltyApi;

#[OpenApi]
impl LoyaltyApi {
    /// The paw card: balance, rewards on offer, requests and history.
    #[oai(path = "/rewards", method = "get", tag = "Tag::Rewards", operation_id = "getPawCard")]
    async fn paw_card(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<PawCard>> {
        let household = household_id(&platform, &auth).await?;
        let scope = auth.0.scope();
        let card = loyalty::card(&platform, scope, household).await?;
        let rewards = loyalty::catalogue(&platform, scope, false).await?;
        let balance = card.balance;
        Ok(Json(PawCard {
            balance,
            rewards: rewards
                .into_iter()
                .map(|r: reward::Model| Reward {
                    affordable: r.paws_needed <= balance,
                    id: r.id,
                    name: r.name,
                    paws_needed: r.paws_needed,
                })
                .collect(),
            requests: card.requests.into_iter().map(RewardRequest::from).collect(),
            history: card.entries.into_iter().map(PawEntry::from).collect(),
        }))
    }
    /// Ask for a reward: its paws leave the balance now (409
    /// `not_enough_paws` if it is short) and come back if the practice
    /// declines.
    #[oai(path = "/rewards/requests", method = "post", tag = "Tag::Rewards", operation_id = "requestReward")]
    async fn request_reward(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<NewRewardRequest>,
    ) -> ApiResult<RewardRequested> {
        let household = household_id(&platform, &auth).await?;
        let made = loyalty::request_reward(&platform, auth.0.scope(), household, body.0.reward_id, body.0.id).await?;
        Ok(if made.replayed {
            RewardRequested::Replayed(Json(made.request.into()))
        } else {
            RewardRequested::Created(Json(made.request.into()))
        })
    }
}
