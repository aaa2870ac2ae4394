//! The household's own corner of the owner app API: changing pets, selfies
//! and the home-screen slideshow, the paw card and rewards, orders and
//! appointment requests. All of it needs a verified email, and all of it
//! answers 404 for anything outside the caller's household.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    db::entities::{owner_request, paw_entry, reward, reward_request, selfie},
    households::{
        clients::PetDetail,
        pets::{self, PetChange},
    },
    loyalty,
    owners::accounts,
    requests::{self, Filter, Kind, NewRequest},
    selfies::{self, Size},
};
use petbridge_http::{
    ApiResult,
    pictures::{Picture, PictureUpload},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, Tags,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::{OwnerAuth, Pet, pet, today};

/// Pets, selfies, rewards and requests of the owner app.
pub struct AppHouseholdApi;

#[derive(Tags)]
enum Tag {
    /// Pets, reminders and appointments.
    Pets,
    /// Photos sent to the practice, and the home-screen slideshow.
    Selfies,
    /// Loyalty paws and rewards.
    Rewards,
    /// Orders (refills) and appointment requests.
    Requests,
}

/// A change to a pet; fields left out stay. Name, species, breed, sex and
/// birth date change only on pets the owner added (409
/// `managed_by_practice` otherwise); notes change on any pet.
#[derive(Debug, Object)]
pub struct PetUpdate {
    /// Name.
    pub name: Option<String>,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Notes about the pet for the practice (empty removes them).
    pub notes: Option<String>,
}

/// Marks a pet inactive.
#[derive(Debug, Object)]
pub struct PetInactivation {
    /// Why, in the owner's words (it passed away, ran away, was rehomed…).
    #[oai(default)]
    pub reason: String,
}

/// A selfie sent to the practice.
#[derive(Debug, Object)]
pub struct Selfie {
    /// Id.
    pub id: Uuid,
    /// The pet in it, if said.
    pub pet_id: Option<Uuid>,
    /// Width of the stored photo, in pixels.
    pub width: i32,
    /// Height of the stored photo, in pixels.
    pub height: i32,
    /// The practice put it in the home-screen slideshow.
    pub starred: bool,
    /// `GET` this for the photo (JPEG).
    pub url: String,
    /// `GET` this for a square thumbnail (JPEG).
    pub thumbnail_url: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

impl From<selfie::Model> for Selfie {
    fn from(s: selfie::Model) -> Self {
        Self {
            url: format!("/api/app/v1/selfies/{}/photo", s.id),
            thumbnail_url: format!("/api/app/v1/selfies/{}/thumbnail", s.id),
            id: s.id,
            pet_id: s.pet_id,
            width: s.width,
            height: s.height,
            starred: s.starred_at.is_some(),
            created_at: s.created_at,
        }
    }
}

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
    /// `pending`, `approved` or `declined`.
    pub status: String,
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
            status: r.status,
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

/// An order or an appointment request.
#[derive(Debug, Object)]
pub struct OwnerRequest {
    /// Id.
    pub id: Uuid,
    /// `order` or `appointment`.
    pub kind: String,
    /// The pet it is for.
    pub pet_id: Option<Uuid>,
    /// What is ordered, or the reason for the visit.
    pub details: String,
    /// Appointment requests: the times the owner prefers.
    pub preferred_times: Vec<String>,
    /// Orders: requested → accepted → ready → completed; appointment
    /// requests: requested → confirmed → completed; either may be
    /// `declined` by the practice or `cancelled` by the owner.
    pub status: String,
    /// What the practice said with its last step.
    pub practice_note: Option<String>,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<owner_request::Model> for OwnerRequest {
    fn from(r: owner_request::Model) -> Self {
        Self {
            preferred_times: r.preferred_times.and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
            id: r.id,
            kind: r.kind,
            pet_id: r.pet_id,
            details: r.details,
            status: r.status,
            practice_note: r.staff_note,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new order.
#[derive(Debug, Object)]
pub struct NewOrder {
    /// What is wanted (e.g. "Hill's k/d 8.5 lb bag", "Apoquel refill").
    pub details: String,
    /// The pet it is for.
    pub pet_id: Option<Uuid>,
    /// An id the app makes: sending it again returns the same order.
    pub id: Option<Uuid>,
}

/// A new appointment request.
#[derive(Debug, Object)]
pub struct NewAppointmentRequest {
    /// The pet it is for.
    pub pet_id: Uuid,
    /// Why.
    pub reason: String,
    /// Up to 5 times that suit, as the owner writes them ("Tue morning").
    #[oai(default)]
    pub preferred_times: Vec<String>,
    /// An id the app makes: sending it again returns the same request.
    pub id: Option<Uuid>,
}

/// Done, nothing to return.
#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// A stored selfie.
#[derive(ApiResponse)]
enum SelfieStored {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<Selfie>),
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

/// An order or appointment request.
#[derive(ApiResponse)]
enum RequestMade {
    /// Made now.
    #[oai(status = 201)]
    Created(Json<OwnerRequest>),
    /// Made before with the same id: that request.
    #[oai(status = 200)]
    Replayed(Json<OwnerRequest>),
}

impl From<requests::Made> for RequestMade {
    fn from(made: requests::Made) -> Self {
        if made.replayed { Self::Replayed(Json(made.request.into())) } else { Self::Created(Json(made.request.into())) }
    }
}

async fn household_id(platform: &Platform, auth: &OwnerAuth) -> ApiResult<Uuid> {
    auth.0.require_verified()?;
    Ok(accounts::household(platform, &auth.0).await?.id)
}

async fn pet_view(
    platform: &Platform,
    auth: &OwnerAuth,
    row: petbridge_domain::db::entities::pet::Model,
) -> ApiResult<Pet> {
    let today = today(platform, &auth.0).await?;
    let detail = accounts::pets(platform, &auth.0).await?.into_iter().find(|p| p.pet.id == row.id);
    Ok(pet(detail.unwrap_or(PetDetail { pet: row, in_app: true, reminders: Vec::new() }), today))
}

#[OpenApi]
impl AppHouseholdApi {
    /// Change a pet: notes on any pet, the profile of a pet you added.
    #[oai(path = "/pets/:id", method = "patch", tag = "Tag::Pets", operation_id = "updatePet")]
    async fn update_pet(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PetUpdate>,
    ) -> ApiResult<Json<Pet>> {
        let household = household_id(&platform, &auth).await?;
        let b = body.0;
        let change = PetChange {
            name: b.name,
            species: b.species,
            breed: b.breed,
            sex: b.sex,
            date_of_birth: b.date_of_birth,
            notes: b.notes,
        };
        let row = pets::edit(&platform, auth.0.scope(), household, id.0, change).await?;
        Ok(Json(pet_view(&platform, &auth, row).await?))
    }

    /// Mark a pet inactive, saying why; the practice sees it in its
    /// Inactivated Pets list.
    #[oai(path = "/pets/:id/inactive", method = "post", tag = "Tag::Pets", operation_id = "markPetInactive")]
    async fn mark_inactive(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PetInactivation>,
    ) -> ApiResult<Json<Pet>> {
        let household = household_id(&platform, &auth).await?;
        let row = pets::set_inactive(&platform, auth.0.scope(), household, id.0, true, Some(&body.0.reason)).await?;
        Ok(Json(pet_view(&platform, &auth, row).await?))
    }

    /// Mark a pet active again.
    #[oai(path = "/pets/:id/inactive", method = "delete", tag = "Tag::Pets", operation_id = "markPetActive")]
    async fn mark_active(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Pet>> {
        let household = household_id(&platform, &auth).await?;
        let row = pets::set_inactive(&platform, auth.0.scope(), household, id.0, false, None).await?;
        Ok(Json(pet_view(&platform, &auth, row).await?))
    }

    /// Send a selfie (JPEG, PNG or WebP, checked from the bytes). It is
    /// stored re-encoded, without EXIF or GPS data.
    #[oai(path = "/selfies", method = "post", tag = "Tag::Selfies", operation_id = "uploadSelfie")]
    async fn upload_selfie(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        /// The pet in the photo.
        pet_id: Query<Option<Uuid>>,
        body: PictureUpload,
    ) -> ApiResult<SelfieStored> {
        let household = household_id(&platform, &auth).await?;
        let stored = selfies::upload(&platform, auth.0.scope(), household, pet_id.0, body.into_bytes()).await?;
        Ok(SelfieStored::Created(Json(stored.into())))
    }

    /// The selfies you sent, newest first.
    #[oai(path = "/selfies", method = "get", tag = "Tag::Selfies", operation_id = "listSelfies")]
    async fn list_selfies(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Selfie>>> {
        let household = household_id(&platform, &auth).await?;
        let list = selfies::of_household(&platform, auth.0.scope(), household).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }

    /// The home-screen slideshow: your selfies the practice starred.
    #[oai(path = "/slideshow", method = "get", tag = "Tag::Selfies", operation_id = "getSlideshow")]
    async fn slideshow(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Selfie>>> {
        let household = household_id(&platform, &auth).await?;
        let list = selfies::slideshow(&platform, auth.0.scope(), household).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }

    /// A selfie's photo.
    #[oai(path = "/selfies/:id/photo", method = "get", tag = "Tag::Selfies", operation_id = "getSelfiePhoto")]
    async fn selfie_photo(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.selfie_picture(&auth, &platform, id.0, Size::Full).await
    }

    /// A selfie's square thumbnail.
    #[oai(path = "/selfies/:id/thumbnail", method = "get", tag = "Tag::Selfies", operation_id = "getSelfieThumbnail")]
    async fn selfie_thumbnail(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.selfie_picture(&auth, &platform, id.0, Size::Thumbnail).await
    }

    /// Delete a selfie.
    #[oai(path = "/selfies/:id", method = "delete", tag = "Tag::Selfies", operation_id = "deleteSelfie")]
    async fn delete_selfie(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let household = household_id(&platform, &auth).await?;
        selfies::delete(&platform, auth.0.scope(), household, id.0).await?;
        Ok(Done::NoContent)
    }

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

    /// Your orders and appointment requests, newest first.
    #[oai(path = "/requests", method = "get", tag = "Tag::Requests", operation_id = "listRequests")]
    async fn list_requests(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        /// Only those for this pet.
        pet_id: Query<Option<Uuid>>,
    ) -> ApiResult<Json<Vec<OwnerRequest>>> {
        let household = household_id(&platform, &auth).await?;
        let filter = Filter { kind: None, pet_id: pet_id.0 };
        let list = requests::of_household(&platform, auth.0.scope(), household, filter).await?;
        Ok(Json(list.into_iter().map(OwnerRequest::from).collect()))
    }

    /// Order a refill (food, medication…).
    #[oai(path = "/orders", method = "post", tag = "Tag::Requests", operation_id = "placeOrder")]
    async fn place_order(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<NewOrder>,
    ) -> ApiResult<RequestMade> {
        let household = household_id(&platform, &auth).await?;
        let b = body.0;
        let new = NewRequest {
            id: b.id,
            kind: Kind::Order,
            pet_id: b.pet_id,
            details: b.details,
            preferred_times: Vec::new(),
        };
        Ok(requests::make(&platform, auth.0.scope(), household, new).await?.into())
    }

    /// Ask for an appointment.
    #[oai(path = "/appointment-requests", method = "post", tag = "Tag::Requests", operation_id = "requestAppointment")]
    async fn request_appointment(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<NewAppointmentRequest>,
    ) -> ApiResult<RequestMade> {
        let household = household_id(&platform, &auth).await?;
        let b = body.0;
        let new = NewRequest {
            id: b.id,
            kind: Kind::Appointment,
            pet_id: Some(b.pet_id),
            details: b.reason,
            preferred_times: b.preferred_times,
        };
        Ok(requests::make(&platform, auth.0.scope(), household, new).await?.into())
    }

    /// Withdraw an order or appointment request the practice has not
    /// settled (409 `cannot_cancel` once it is ready, completed or declined).
    #[oai(path = "/requests/:id/cancel", method = "post", tag = "Tag::Requests", operation_id = "cancelRequest")]
    async fn cancel_request(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<OwnerRequest>> {
        let household = household_id(&platform, &auth).await?;
        Ok(Json(requests::cancel(&platform, auth.0.scope(), household, id.0).await?.into()))
    }
}

impl AppHouseholdApi {
    async fn selfie_picture(&self, auth: &OwnerAuth, platform: &Platform, id: Uuid, size: Size) -> ApiResult<Picture> {
        let household = household_id(platform, auth).await?;
        let found = selfies::get(platform, auth.0.scope(), Some(household), id).await?;
        Ok(Picture::private(selfies::picture(platform, &found, size).await?, 86_400))
    }
}
