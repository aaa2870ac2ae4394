//! The household in the app API: pets (the owner's own and the PMS's),
//! appointments, communication preferences.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    households::{
        clients::{self, PetDetail},
        pets::{self, PetChange},
        preferences::{self, ChangedBy},
    },
    kernel::text::MAX_NAME_CHARS,
    owners::accounts::{self, NewPet as NewOwnerPet},
};
use petbridge_http::{
    ApiResult,
    fields::{Limited, Text},
    preferences::{CommunicationPreferences, PreferencesChange},
    reminders::Reminder,
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{OwnerAuth, household_id, today},
    tags::Tag,
};

/// A change to a pet; fields left out stay. Name, species, breed, sex and
/// birth date change only on pets the owner added (409
/// `managed_by_practice` otherwise); notes change on any pet.
#[derive(Debug, Object)]
pub struct PetUpdate {
    /// Name.
    pub name: Option<Text<1, { MAX_NAME_CHARS }>>,
    /// Species.
    pub species: Option<Text<0, { MAX_NAME_CHARS }>>,
    /// Breed.
    pub breed: Option<Text<0, { MAX_NAME_CHARS }>>,
    /// Sex.
    pub sex: Option<Text<0, { MAX_NAME_CHARS }>>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Notes about the pet for the practice (empty removes them).
    pub notes: Option<Text<0, { pets::MAX_NOTES_CHARS }>>,
}

/// Marks a pet inactive.
#[derive(Debug, Object)]
pub struct PetInactivation {
    /// Why, in the owner's words (it passed away, ran away, was rehomed…).
    #[oai(default)]
    pub reason: Text<0, { pets::MAX_INACTIVE_REASON_CHARS }>,
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

/// A pet.
#[derive(Debug, Object)]
pub struct Pet {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the owner added it (and may edit it); otherwise it comes from the practice.
    pub added_by_owner: bool,
    /// Whether a health service is past due.
    pub past_due: bool,
    /// Open reminders, earliest first.
    pub reminders: Vec<Reminder>,
    /// The owner's notes about the pet (the practice sees them too).
    pub notes: Option<String>,
    /// The owner marked it inactive (it passed away, ran away…).
    pub inactive: bool,
    /// What the owner said when marking it inactive.
    pub inactive_reason: Option<String>,
}

pub(crate) fn pet(detail: PetDetail, today: NaiveDate) -> Pet {
    Pet {
        notes: detail.pet.owner_notes.clone(),
        inactive: detail.pet.owner_inactive_at.is_some(),
        inactive_reason: detail.pet.owner_inactive_reason.clone(),
        past_due: detail.past_due(today),
        id: detail.pet.id,
        name: detail.pet.name,
        species: detail.pet.species,
        breed: detail.pet.breed,
        sex: detail.pet.sex,
        date_of_birth: detail.pet.date_of_birth,
        added_by_owner: detail.pet.added_by_owner,
        reminders: Reminder::all_on(detail.reminders, today),
    }
}

/// A pet the owner adds.
#[derive(Debug, Object)]
pub struct NewPet {
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth: with the name, it merges this pet with the practice's record of it.
    pub date_of_birth: Option<NaiveDate>,
}

/// An upcoming appointment.
#[derive(Debug, Object)]
pub struct Appointment {
    /// When.
    pub starts_at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The pet, when the appointment is for one shown in the app.
    pub pet_id: Option<Uuid>,
}

/// Created.
#[derive(ApiResponse)]
enum PetCreated {
    /// The new pet.
    #[oai(status = 201)]
    Created(Json<Pet>),
}

/// This feature's operations of the app API.
pub struct HouseholdApi;

#[OpenApi]
impl HouseholdApi {
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
            name: b.name.map(Limited::into_inner),
            species: b.species.map(Limited::into_inner),
            breed: b.breed.map(Limited::into_inner),
            sex: b.sex.map(Limited::into_inner),
            date_of_birth: b.date_of_birth,
            notes: b.notes.map(Limited::into_inner),
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
        let row =
            pets::set_inactive(&platform, auth.0.scope(), household, id.0, true, Some(body.0.reason.as_str())).await?;
        Ok(Json(pet_view(&platform, &auth, row).await?))
    }
    /// Mark a pet active again.
    #[oai(path = "/pets/:id/inactive", method = "delete", tag = "Tag::Pets", operation_id = "markPetActive")]
    async fn mark_active(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Pet>> {
        let household = household_id(&platform, &auth).await?;
        let row = pets::set_inactive(&platform, auth.0.scope(), household, id.0, false, None).await?;
        Ok(Json(pet_view(&platform, &auth, row).await?))
    }
    /// The household's communication preferences (the practice sees and may change the same record).
    #[oai(path = "/me/preferences", method = "get", tag = "Tag::Account", operation_id = "getPreferences")]
    async fn preferences(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        let household = accounts::household(&platform, &auth.0).await?;
        Ok(Json(preferences::get(&platform, auth.0.scope(), household.id).await?.into()))
    }
    /// Change the communication preferences; fields left out stay as they are.
    #[oai(path = "/me/preferences", method = "patch", tag = "Tag::Account", operation_id = "updatePreferences")]
    async fn update_preferences(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<PreferencesChange>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        let household = accounts::household(&platform, &auth.0).await?;
        let scope = auth.0.scope();
        Ok(Json(preferences::update(&platform, scope, household.id, body.0.into(), ChangedBy::Owner).await?.into()))
    }
    /// The household's pets: from the practice and the owner's own. Needs a verified email.
    #[oai(path = "/pets", method = "get", tag = "Tag::Pets", operation_id = "listPets")]
    async fn pets(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Pet>>> {
        let today = today(&platform, &auth.0).await?;
        let pets = accounts::pets(&platform, &auth.0).await?;
        Ok(Json(pets.into_iter().map(|p| pet(p, today)).collect()))
    }
    /// Add a pet of your own.
    #[oai(path = "/pets", method = "post", tag = "Tag::Pets", operation_id = "addPet")]
    async fn add_pet(&self, auth: OwnerAuth, platform: Data<&Platform>, body: Json<NewPet>) -> ApiResult<PetCreated> {
        let body = body.0;
        let row = accounts::add_pet(
            &platform,
            &auth.0,
            NewOwnerPet {
                name: body.name,
                species: body.species,
                breed: body.breed,
                sex: body.sex,
                date_of_birth: body.date_of_birth,
            },
        )
        .await?;
        let today = today(&platform, &auth.0).await?;
        Ok(PetCreated::Created(Json(pet(PetDetail { pet: row, in_app: true, reminders: Vec::new() }, today))))
    }
    /// Upcoming appointments of the household. Needs a verified email.
    #[oai(path = "/appointments", method = "get", tag = "Tag::Pets", operation_id = "listAppointments")]
    async fn appointments(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Appointment>>> {
        let pets = accounts::pets(&platform, &auth.0).await?;
        let household = accounts::household(&platform, &auth.0).await?;
        let upcoming =
            clients::upcoming_appointments(&platform, auth.0.scope(), &household, platform.clock.now()).await?;
        Ok(Json(
            upcoming
                .into_iter()
                .map(|a| Appointment {
                    pet_id: pets
                        .iter()
                        .find(|p| p.pet.pms_id.is_some() && p.pet.pms_id == a.pet_pms_id)
                        .map(|p| p.pet.id),
                    starts_at: a.starts_at,
                    reason: a.reason,
                })
                .collect(),
        ))
    }
}
