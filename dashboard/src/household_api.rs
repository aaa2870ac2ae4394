//! One owner's household as the practice works with it, in the staff API:
//! loyalty (paw history, Add Paw, Oops, Manually Reward, deciding reward
//! requests) and the reward catalogue, orders and appointment requests,
//! selfies (star, heart), and pets owners marked inactive.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Code, Platform,
    db::entities::{owner_request, paw_entry, reward, reward_request, selfie},
    households::pets,
    kernel::permissions::Permission,
    loyalty::{self, ManualReward, RewardChange},
    requests::{self, Filter, Kind, Status},
    selfies::{self, Marks, Size},
};
use petbridge_http::{ApiError, ApiResult, RequestContext, pictures::Picture};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi, Tags,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::auth::{ManagerOverride, StaffAuth, authorize};

#[derive(Tags)]
enum Tag {
    /// Loyalty paws, rewards and the reward catalogue.
    Loyalty,
    /// Orders and appointment requests made in the app.
    Requests,
    /// Selfies owners sent, and pets they marked inactive.
    Household,
}

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
    /// `pending`, `approved` or `declined`.
    pub status: String,
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
            status: r.status,
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
    /// How many (1 to 100).
    #[oai(default = "one")]
    pub paws: i32,
    /// What for (shown to the owner).
    pub reason: Option<String>,
}

fn one() -> i32 {
    1
}

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
    /// Name (1 to 100 characters).
    pub name: String,
    /// Paws it takes (1 to 10,000).
    pub paws_needed: i32,
}

/// A change to a reward; fields left out stay.
#[derive(Debug, Object)]
pub struct RewardUpdate {
    /// Name.
    pub name: Option<String>,
    /// Paws it takes.
    pub paws_needed: Option<i32>,
    /// Stop offering it (`true`) or offer it again (`false`).
    pub retired: Option<bool>,
}

/// Which requests.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RequestKind {
    /// Orders (refills).
    Order,
    /// Appointment requests.
    Appointment,
}

/// An order or appointment request.
#[derive(Debug, Object)]
pub struct OwnerRequest {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// `order` or `appointment`.
    pub kind: String,
    /// The pet.
    pub pet_id: Option<Uuid>,
    /// What is ordered, or the reason for the visit.
    pub details: String,
    /// Appointment requests: the times the owner prefers.
    pub preferred_times: Vec<String>,
    /// `requested`, `accepted`, `confirmed`, `ready`, `completed`, `declined` or `cancelled`.
    pub status: String,
    /// The steps it may take next.
    pub next: Vec<String>,
    /// The note sent with the last step.
    pub staff_note: Option<String>,
    /// Who made the last change: `owner` or a staff member.
    pub updated_by: Option<String>,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<owner_request::Model> for OwnerRequest {
    fn from(r: owner_request::Model) -> Self {
        let next = match (Kind::parse(&r.kind), Status::parse(&r.status)) {
            (Some(kind), Some(status)) => {
                requests::next_steps(kind, status).iter().map(|s| s.as_str().to_owned()).collect()
            }
            _ => Vec::new(),
        };
        Self {
            preferred_times: r.preferred_times.and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
            id: r.id,
            client_id: r.client_id,
            kind: r.kind,
            pet_id: r.pet_id,
            details: r.details,
            status: r.status,
            next,
            staff_note: r.staff_note,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Move a request to its next step.
#[derive(Debug, Object)]
pub struct RequestUpdate {
    /// The step: `accepted`, `ready`, `completed` or `declined` for an
    /// order; `confirmed`, `completed` or `declined` for an appointment.
    pub status: String,
    /// A note for the owner, sent with the notification.
    pub note: Option<String>,
}

/// A selfie an owner sent.
#[derive(Debug, Object)]
pub struct Selfie {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// The pet in it.
    pub pet_id: Option<Uuid>,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// In the app's home-screen slideshow.
    pub starred: bool,
    /// A favourite for push notifications.
    pub hearted: bool,
    /// The photo (JPEG).
    pub url: String,
    /// Its square thumbnail (JPEG).
    pub thumbnail_url: String,
    /// Sent.
    pub created_at: DateTime<Utc>,
}

impl From<selfie::Model> for Selfie {
    fn from(s: selfie::Model) -> Self {
        Self {
            url: format!("/api/dashboard/v1/selfies/{}/photo", s.id),
            thumbnail_url: format!("/api/dashboard/v1/selfies/{}/thumbnail", s.id),
            id: s.id,
            client_id: s.client_id,
            pet_id: s.pet_id,
            width: s.width,
            height: s.height,
            starred: s.starred_at.is_some(),
            hearted: s.hearted_at.is_some(),
            created_at: s.created_at,
        }
    }
}

/// Star or heart a selfie; fields left out stay.
#[derive(Debug, Object)]
pub struct SelfieUpdate {
    /// In the home-screen slideshow.
    pub starred: Option<bool>,
    /// A favourite for push notifications.
    pub hearted: Option<bool>,
}

/// A pet its owner marked inactive in the app.
#[derive(Debug, Object)]
pub struct InactivatedPet {
    /// The pet.
    pub pet_id: Uuid,
    /// Its name.
    pub name: String,
    /// The household.
    pub client_id: Uuid,
    /// The owner's name.
    pub owner_name: String,
    /// The owner's phone, to reach out.
    pub phone: Option<String>,
    /// What the owner said.
    pub reason: Option<String>,
    /// When.
    pub marked_at: DateTime<Utc>,
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

/// Loyalty, requests, selfies and inactivated pets in the staff API.
pub struct HouseholdApi;

#[OpenApi]
impl HouseholdApi {
    /// A household's loyalty panel: balance, paw history and reward requests.
    #[oai(path = "/clients/:id/loyalty", method = "get", tag = "Tag::Loyalty", operation_id = "getClientLoyalty")]
    async fn loyalty(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Loyalty>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
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
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<NewPaws>,
    ) -> ApiResult<EntryCreated> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        let added = loyalty::add_paws(
            &platform,
            scope,
            &allowed.actor,
            &context.origin,
            id.0,
            body.0.paws,
            body.0.reason.as_deref(),
        )
        .await?;
        Ok(EntryCreated::Created(Json(entry(added, false))))
    }

    /// The Oops stamp: take back paws given by mistake (409
    /// `paws_already_spent` or `already_reversed`).
    #[oai(path = "/paw-entries/:id/oops", method = "post", tag = "Tag::Loyalty", operation_id = "oopsPaw")]
    async fn oops(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<EntryCreated> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage, &manager, &context).await?;
        let reversal =
            loyalty::oops(&platform, auth.principal().scope(), &allowed.actor, &context.origin, id.0).await?;
        Ok(EntryCreated::Created(Json(entry(reversal, false))))
    }

    /// Manually Reward: redeem paws for the owner without a request from the app.
    #[oai(path = "/clients/:id/rewards", method = "post", tag = "Tag::Loyalty", operation_id = "manualReward")]
    async fn manual_reward(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<NewManualReward>,
    ) -> ApiResult<RewardGiven> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage, &manager, &context).await?;
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
        let given = loyalty::manual_reward(&platform, scope, &allowed.actor, &context.origin, id.0, what).await?;
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
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<RewardDecision>,
    ) -> ApiResult<Json<RewardRequest>> {
        let allowed = authorize(&platform, &auth, Permission::LoyaltyManage, &manager, &context).await?;
        let approve = matches!(body.0.decision, Decision::Approve);
        let scope = auth.principal().scope();
        Ok(Json(loyalty::decide(&platform, scope, &allowed.actor, &context.origin, id.0, approve).await?.into()))
    }

    /// The practice's reward requests waiting for a decision, oldest first.
    #[oai(path = "/reward-requests", method = "get", tag = "Tag::Loyalty", operation_id = "listPendingRewardRequests")]
    async fn pending(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<Json<Vec<RewardRequest>>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
        let pending = loyalty::pending_requests(&platform, auth.principal().scope()).await?;
        Ok(Json(pending.into_iter().map(|p| RewardRequest::from(p.request)).collect()))
    }

    /// The reward catalogue, cheapest first.
    #[oai(path = "/rewards", method = "get", tag = "Tag::Loyalty", operation_id = "listRewards")]
    async fn rewards(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        /// Include rewards no longer offered.
        #[oai(default)]
        retired: Query<bool>,
    ) -> ApiResult<Json<Vec<Reward>>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
        let list = loyalty::catalogue(&platform, auth.principal().scope(), retired.0).await?;
        Ok(Json(list.into_iter().map(Reward::from).collect()))
    }

    /// Add a reward to the catalogue.
    #[oai(path = "/rewards", method = "post", tag = "Tag::Loyalty", operation_id = "createReward")]
    async fn create_reward(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<NewReward>,
    ) -> ApiResult<RewardCreated> {
        let allowed = authorize(&platform, &auth, Permission::RewardsManage, &manager, &context).await?;
        let scope = auth.principal().scope();
        let made =
            loyalty::create_reward(&platform, scope, &allowed.actor, &context.origin, &body.0.name, body.0.paws_needed)
                .await?;
        Ok(RewardCreated::Created(Json(made.into())))
    }

    /// Rename, reprice, retire or offer again a reward.
    #[oai(path = "/rewards/:id", method = "patch", tag = "Tag::Loyalty", operation_id = "updateReward")]
    async fn update_reward(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<RewardUpdate>,
    ) -> ApiResult<Json<Reward>> {
        let allowed = authorize(&platform, &auth, Permission::RewardsManage, &manager, &context).await?;
        let change = RewardChange { name: body.0.name, paws_needed: body.0.paws_needed, retired: body.0.retired };
        let scope = auth.principal().scope();
        Ok(Json(loyalty::update_reward(&platform, scope, &allowed.actor, &context.origin, id.0, change).await?.into()))
    }

    /// A household's orders and appointment requests, newest first.
    #[oai(path = "/clients/:id/requests", method = "get", tag = "Tag::Requests", operation_id = "listClientRequests")]
    #[allow(clippy::too_many_arguments)]
    async fn requests(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        /// Only those for this pet.
        pet_id: Query<Option<Uuid>>,
        /// Only orders, or only appointment requests.
        kind: Query<Option<RequestKind>>,
    ) -> ApiResult<Json<Vec<OwnerRequest>>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
        let scope = auth.principal().scope();
        petbridge_domain::households::clients::get(&platform, scope, id.0).await?;
        let kind = kind.0.map(|k| match k {
            RequestKind::Order => Kind::Order,
            RequestKind::Appointment => Kind::Appointment,
        });
        let list = requests::of_household(&platform, scope, id.0, Filter { kind, pet_id: pet_id.0 }).await?;
        Ok(Json(list.into_iter().map(OwnerRequest::from).collect()))
    }

    /// Move an order or appointment request to its next step; the owner is
    /// notified (422 `invalid_transition` for a step its kind does not take
    /// from where it is).
    #[oai(path = "/requests/:id", method = "patch", tag = "Tag::Requests", operation_id = "updateRequest")]
    async fn update_request(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<RequestUpdate>,
    ) -> ApiResult<Json<OwnerRequest>> {
        let allowed = authorize(&platform, &auth, Permission::RequestsManage, &manager, &context).await?;
        let to = Status::parse(&body.0.status).ok_or_else(|| {
            ApiError::from(petbridge_domain::DomainError::with(Code::InvalidStatus, "not a request status"))
        })?;
        let scope = auth.principal().scope();
        let note = body.0.note.as_deref();
        Ok(Json(requests::advance(&platform, scope, &allowed.actor, &context.origin, id.0, to, note).await?.into()))
    }

    /// A household's selfies, newest first.
    #[oai(path = "/clients/:id/selfies", method = "get", tag = "Tag::Household", operation_id = "listClientSelfies")]
    async fn selfies(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Selfie>>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
        let scope = auth.principal().scope();
        petbridge_domain::households::clients::get(&platform, scope, id.0).await?;
        let list = selfies::of_household(&platform, scope, id.0).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }

    /// A selfie's photo.
    #[oai(path = "/selfies/:id/photo", method = "get", tag = "Tag::Household", operation_id = "getClientSelfiePhoto")]
    async fn selfie_photo(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Picture> {
        self.picture(&auth, &manager, &platform, &context, id.0, Size::Full).await
    }

    /// A selfie's square thumbnail.
    #[oai(
        path = "/selfies/:id/thumbnail",
        method = "get",
        tag = "Tag::Household",
        operation_id = "getClientSelfieThumbnail"
    )]
    async fn selfie_thumbnail(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
    ) -> ApiResult<Picture> {
        self.picture(&auth, &manager, &platform, &context, id.0, Size::Thumbnail).await
    }

    /// Star a selfie for the owner's home-screen slideshow, or heart it as a
    /// favourite for push notifications (or take either off).
    #[oai(path = "/selfies/:id", method = "patch", tag = "Tag::Household", operation_id = "updateSelfie")]
    async fn update_selfie(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        id: Path<Uuid>,
        body: Json<SelfieUpdate>,
    ) -> ApiResult<Json<Selfie>> {
        let allowed = authorize(&platform, &auth, Permission::SelfiesCurate, &manager, &context).await?;
        let marks = Marks { starred: body.0.starred, hearted: body.0.hearted };
        let scope = auth.principal().scope();
        Ok(Json(selfies::mark(&platform, scope, &allowed.actor, &context.origin, id.0, marks).await?.into()))
    }

    /// Inactivated Pets: pets owners marked inactive in the app, most recent
    /// first, so the practice can reach out.
    #[oai(path = "/inactivated-pets", method = "get", tag = "Tag::Household", operation_id = "listInactivatedPets")]
    async fn inactivated(
        &self,
        auth: StaffAuth,
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<Json<Vec<InactivatedPet>>> {
        authorize(&platform, &auth, Permission::ClientsView, &manager, &context).await?;
        let list = pets::inactivated(&platform, auth.principal().scope(), None).await?;
        Ok(Json(
            list.into_iter()
                .map(|i| InactivatedPet {
                    pet_id: i.pet.id,
                    name: i.pet.name,
                    client_id: i.client.id,
                    owner_name: format!("{} {}", i.client.first_name, i.client.last_name).trim().to_owned(),
                    phone: i.client.phone,
                    reason: i.pet.owner_inactive_reason,
                    marked_at: i.pet.owner_inactive_at.unwrap_or(i.pet.updated_at),
                })
                .collect(),
        ))
    }
}

impl HouseholdApi {
    async fn picture(
        &self,
        auth: &StaffAuth,
        manager: &ManagerOverride,
        platform: &Platform,
        context: &RequestContext,
        id: Uuid,
        size: Size,
    ) -> ApiResult<Picture> {
        authorize(platform, auth, Permission::ClientsView, manager, context).await?;
        let found = selfies::get(platform, auth.principal().scope(), None, id).await?;
        Ok(Picture::private(selfies::picture(platform, &found, size).await?, 3_600))
    }
}
