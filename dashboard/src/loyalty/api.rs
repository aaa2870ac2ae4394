//! Loyalty paws and rewards in the staff API.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Code, Platform,
    db::entities::{paw_entry, reward, reward_request},
    kernel::{permissions::Permission, text::MAX_NAME_CHARS},
    loyalty::{self, ManualReward, RewardChange},
};
use petbridge_http::{
    ApiError, ApiResult,
    fields::{Between, Limited, Stored, Text},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// One line of a household's paw history.
#[derive(Debug, Object)]
pub struct PawEntry {
    /// Id (give it to Oops to take an earned paw back).
    pub id: Uuid,
    /// Paws added (positive) or taken (negative).
    pub paws: i32,
    /// `earned`, `redeemed`, `refunded` or `reversed`.
    pub kind: String,
    /// What it was for.
    pub reason: String,
    /// Who gave or took it; none for the app and the system.
    pub staff_name: Option<String>,
    /// An earned entry an Oops stamp already took back.
    pub reversed: bool,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A reward request (from the app) or a manual reward (by staff).
#[derive(Debug, Object)]
pub struct RewardRequest {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// The reward, as named when asked.
    pub reward_name: String,
    /// Paws it took.
    pub paws: i32,
    /// Whether it is decided.
    pub status: Stored<reward_request::Status>,
    /// `owner` (the app), or the staff member who gave it.
    pub requested_by: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<reward_request::Model> for RewardRequest {
    fn from(r: reward_request::Model) -> Self {
        Self {
            id: r.id,
            client_id: r.client_id,
            reward_name: r.reward_name,
            paws: r.paws,
            status: r.status.into(),
            requested_by: r.requested_by,
            decided_by: r.decided_by,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

/// A household's loyalty panel.
#[derive(Debug, Object)]
pub struct Loyalty {
    /// Paws to spend.
    pub balance: i32,
    /// The history, newest first.
    pub history: Vec<PawEntry>,
    /// Requests and manual rewards, newest first.
    pub requests: Vec<RewardRequest>,
}

/// Add Paw.
#[derive(Debug, Object)]
pub struct NewPaws {
    /// How many.
    #[oai(default = "one")]
    pub paws: PawsAdded,
    /// What for (shown to the owner).
    pub reason: Option<Text<0, { loyalty::MAX_REASON_CHARS }>>,
}

/// Paws added at a time.
type PawsAdded = Limited<i32, Between<1, { loyalty::MAX_PAWS_PER_ENTRY as i64 }>>;

fn one() -> PawsAdded {
    1.into()
}

/// A reward's name.
type RewardName = Text<1, { MAX_NAME_CHARS }>;

/// The paws a reward takes.
type PawsNeeded = Limited<i32, Between<1, { loyalty::MAX_PAWS_NEEDED as i64 }>>;

/// Manually Reward: a catalogue reward, or one named here with its paws.
#[derive(Debug, Object)]
pub struct NewManualReward {
    /// A reward of the catalogue…
    pub reward_id: Option<Uuid>,
    /// …or a name…
    pub name: Option<String>,
    /// …and the paws it takes.
    pub paws: Option<i32>,
}

/// A decision on a reward request.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Decision {
    /// Give it.
    Approve,
    /// Refuse it; its paws go back on the card.
    Decline,
}

/// Decide a reward request.
#[derive(Debug, Object)]
pub struct RewardDecision {
    /// Approve or decline.
    pub decision: Decision,
}

/// A reward of the catalogue.
#[derive(Debug, Object)]
pub struct Reward {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Paws it takes.
    pub paws_needed: i32,
    /// No longer offered.
    pub retired: bool,
}

impl From<reward::Model> for Reward {
    fn from(r: reward::Model) -> Self {
        Self { id: r.id, name: r.name, paws_needed: r.paws_needed, retired: r.retired_at.is_some() }
    }
}

/// A new reward.
#[derive(Debug, Object)]
pub struct NewReward {
    /// Name.
    pub name: RewardName,
    /// Paws it takes.
    pub paws_needed: PawsNeeded,
}

/// A change to a reward; fields left out stay.
#[derive(Debug, Object)]
pub struct RewardUpdate {
    /// Name.
    pub name: Option<RewardName>,
    /// Paws it takes.
    pub paws_needed: Option<PawsNeeded>,
    /// Stop offering it (`true`) or offer it again (`false`).
    pub retired: Option<bool>,
}

/// Created.
#[derive(ApiResponse)]
enum EntryCreated {
    /// The new ledger entry.
    #[oai(status = 201)]
    Created(Json<PawEntry>),
}

/// Created.
#[derive(ApiResponse)]
enum RewardGiven {
    /// The reward, approved.
    #[oai(status = 201)]
    Created(Json<RewardRequest>),
}

/// Created.
#[derive(ApiResponse)]
enum RewardCreated {
    /// The new reward.
    #[oai(status = 201)]
    Created(Json<Reward>),
}

fn entry(e: paw_entry::Model, reversed: bool) -> PawEntry {
    PawEntry {
        id: e.id,
        paws: e.paws,
        kind: e.kind,
        reason: e.reason,
        staff_name: e.staff_name,
        reversed,
        created_at: e.created_at,
    }
}

/// This feature's operations of the staff API.
pub struct LoyaltyApi;

#[OpenApi]
impl LoyaltyApi {
    /// A household's loyalty panel: balance, paw history and reward requests.
    #[oai(path = "/clients/:id/loyalty", method = "get", tag = "Tag::Loyalty", operation_id = "getClientLoyalty")]
    async fn loyalty(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Loyalty>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let card = loyalty::card(&platform, auth.principal().scope(), id.0).await?;
        let history = card.entries.iter().map(|e| entry(e.clone(), card.reversed(e.id))).collect();
        Ok(Json(Loyalty {
            balance: card.balance,
            history,
            requests: card.requests.into_iter().map(RewardRequest::from).collect(),
        }))
    }
    /// Add Paw: give the household paws.
    #[oai(path = "/clients/:id/paws", method = "post", tag = "Tag::Loyalty", operation_id = "addPaws")]
    async fn add_paws(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewPaws>,
    ) -> ApiResult<EntryCreated> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage).await?;
        let scope = auth.principal().scope();
        let added = loyalty::add_paws(
            &platform,
            scope,
            &allowed.actor,
            auth.origin(),
            id.0,
            body.0.paws.into_inner(),
            body.0.reason.as_deref().map(String::as_str),
        )
        .await?;
        Ok(EntryCreated::Created(Json(entry(added, false))))
    }
    /// The Oops stamp: take back paws given by mistake (409
    /// `paws_already_spent` or `already_reversed`).
    #[oai(path = "/paw-entries/:id/oops", method = "post", tag = "Tag::Loyalty", operation_id = "oopsPaw")]
    async fn oops(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<EntryCreated> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage).await?;
        let reversal = loyalty::oops(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0).await?;
        Ok(EntryCreated::Created(Json(entry(reversal, false))))
    }
    /// Manually Reward: redeem paws for the owner without a request from the app.
    #[oai(path = "/clients/:id/rewards", method = "post", tag = "Tag::Loyalty", operation_id = "manualReward")]
    async fn manual_reward(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NewManualReward>,
    ) -> ApiResult<RewardGiven> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage).await?;
        let what = match (body.0.reward_id, body.0.name, body.0.paws) {
            (Some(reward_id), None, None) => ManualReward::Catalogue(reward_id),
            (None, Some(name), Some(paws)) => ManualReward::Named { name, paws },
            _ => {
                return Err(ApiError::from(petbridge_domain::DomainError::with(
                    Code::InvalidReward,
                    "give a reward_id, or a name and its paws",
                )));
            }
        };
        let scope = auth.principal().scope();
        let given = loyalty::manual_reward(&platform, scope, &allowed.actor, auth.origin(), id.0, what).await?;
        Ok(RewardGiven::Created(Json(given.into())))
    }
    /// Approve or decline a reward request made in the app; the owner is
    /// notified (409 `already_decided` if someone decided it first).
    #[oai(
        path = "/reward-requests/:id/decision",
        method = "post",
        tag = "Tag::Loyalty",
        operation_id = "decideRewardRequest"
    )]
    async fn decide(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<RewardDecision>,
    ) -> ApiResult<Json<RewardRequest>> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage).await?;
        let approve = matches!(body.0.decision, Decision::Approve);
        let scope = auth.principal().scope();
        Ok(Json(loyalty::decide(&platform, scope, &allowed.actor, auth.origin(), id.0, approve).await?.into()))
    }
    /// The practice's reward requests waiting for a decision, oldest first.
    #[oai(path = "/reward-requests", method = "get", tag = "Tag::Loyalty", operation_id = "listPendingRewardRequests")]
    async fn pending(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<RewardRequest>>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let pending = loyalty::pending_requests(&platform, auth.principal().scope()).await?;
        Ok(Json(pending.into_iter().map(|p| RewardRequest::from(p.request)).collect()))
    }
    /// The reward catalogue, cheapest first.
    #[oai(path = "/rewards", method = "get", tag = "Tag::Loyalty", operation_id = "listRewards")]
    async fn rewards(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// Include rewards no longer offered.
        #[oai(default)]
        retired: Query<bool>,
    ) -> ApiResult<Json<Vec<Reward>>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let list = loyalty::catalogue(&platform, auth.principal().scope(), retired.0).await?;
        Ok(Json(list.into_iter().map(Reward::from).collect()))
    }
    /// Add a reward to the catalogue.
    #[oai(path = "/rewards", method = "post", tag = "Tag::Loyalty", operation_id = "createReward")]
    async fn create_reward(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<NewReward>,
    ) -> ApiResult<RewardCreated> {
        let allowed = authorize(&platform, &auth, Permission::RewardsManage).await?;
        let scope = auth.principal().scope();
        let made =
            loyalty::create_reward(&platform, scope, &allowed.actor, auth.origin(), &body.0.name, *body.0.paws_needed)
                .await?;
        Ok(RewardCreated::Created(Json(made.into())))
    }
    /// Rename, reprice, retire or offer again a reward.
    #[oai(path = "/rewards/:id", method = "patch", tag = "Tag::Loyalty", operation_id = "updateReward")]
    async fn update_reward(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<RewardUpdate>,
    ) -> ApiResult<Json<Reward>> {
        let allowed = authorize(&platform, &auth, Permission::RewardsManage).await?;
        let change = RewardChange {
            name: body.0.name.map(Limited::into_inner),
            paws_needed: body.0.paws_needed.map(Limited::into_inner),
            retired: body.0.retired,
        };
        let scope = auth.principal().scope();
        Ok(Json(loyalty::update_reward(&platform, scope, &allowed.actor, auth.origin(), id.0, change).await?.into()))
    }
}
