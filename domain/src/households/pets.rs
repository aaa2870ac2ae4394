//! What owners change about their pets in the app: the profile of a pet they
//! added themselves (the PMS owns the others), notes on any pet (staff see
//! them on the pet card), and marking a pet inactive with a reason (it then
//! shows in the dashboard's Inactivated Pets list so the practice can reach
//! out).

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::kernel::text::MAX_NAME_CHARS;
use crate::{
    Code, DomainError, DomainResult, Platform, Scope,
    db::entities::{client, pet},
    households::clients,
};

/// A change an owner makes to a pet; what is left out stays. Profile fields
/// may change only on pets the owner added (`managed_by_practice` otherwise).
#[derive(Debug, Clone, Default)]
pub struct PetChange {
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
    /// The owner's notes (empty removes them).
    pub notes: Option<String>,
}

impl PetChange {
    fn touches_profile(&self) -> bool {
        self.name.is_some()
            || self.species.is_some()
            || self.breed.is_some()
            || self.sex.is_some()
            || self.date_of_birth.is_some()
    }
}

async fn household_pet(platform: &Platform, scope: Scope, client_id: Uuid, pet_id: Uuid) -> DomainResult<pet::Model> {
    pet::Entity::find_by_id(pet_id)
        .filter(pet::Column::ClientId.eq(client_id))
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .filter(|p| clients::pet_in_app(p, platform.clock.now()))
        .ok_or(DomainError::NotFound)
}

/// The longest notes an owner keeps on a pet.
pub const MAX_NOTES_CHARS: usize = 2_000;

/// The longest reason an owner gives for marking a pet inactive.
pub const MAX_INACTIVE_REASON_CHARS: usize = 500;

fn short_text(value: Option<String>, code: Code, what: &str) -> DomainResult<Option<String>> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.chars().count() > MAX_NAME_CHARS => {
            Err(DomainError::with(code, format!("{what} has at most {MAX_NAME_CHARS} characters")))
        }
        Some(v) if v.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// The owner changes a pet of the household.
pub async fn edit(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    pet_id: Uuid,
    change: PetChange,
) -> DomainResult<pet::Model> {
    let found = household_pet(platform, scope, client_id, pet_id).await?;
    if change.touches_profile() && !found.added_by_owner {
        return Err(DomainError::from(Code::ManagedByPractice));
    }
    if let Some(name) = &change.name
        && !(1..=MAX_NAME_CHARS).contains(&name.trim().chars().count())
    {
        return Err(DomainError::with(Code::InvalidName, "a pet's name has 1 to 100 characters"));
    }
    let notes = match change.notes.map(|n| n.trim().to_owned()) {
        Some(n) if n.chars().count() > MAX_NOTES_CHARS => {
            return Err(DomainError::with(
                Code::InvalidNotes,
                format!("notes have at most {MAX_NOTES_CHARS} characters"),
            ));
        }
        Some(n) => Some((!n.is_empty()).then_some(n)),
        None => None,
    };
    let species = short_text(change.species, Code::InvalidSpecies, "a species")?;
    let breed = short_text(change.breed, Code::InvalidBreed, "a breed")?;
    let sex = short_text(change.sex, Code::InvalidSex, "a sex")?;
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let mut active = found.clone().into_active_model();
    if let Some(name) = change.name {
        active.name = Set(name.trim().to_owned());
    }
    if found.added_by_owner {
        if species.is_some() {
            active.species = Set(species);
        }
        if breed.is_some() {
            active.breed = Set(breed);
        }
        if sex.is_some() {
            active.sex = Set(sex);
        }
        if let Some(born) = change.date_of_birth {
            active.date_of_birth = Set(Some(born));
        }
    }
    if let Some(notes) = notes {
        active.owner_notes = Set(notes);
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    // Names and pet names feed the Users list's search.
    clients::refresh_listings(&txn, platform, scope, &[client_id]).await?;
    txn.commit().await?;
    Ok(row)
}

/// The owner marks a pet inactive (with a reason, e.g. it passed away or ran
/// away), or active again.
pub async fn set_inactive(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    pet_id: Uuid,
    inactive: bool,
    reason: Option<&str>,
) -> DomainResult<pet::Model> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_INACTIVE_REASON_CHARS) {
        return Err(DomainError::with(
            Code::InvalidReason,
            format!("a reason has at most {MAX_INACTIVE_REASON_CHARS} characters"),
        ));
    }
    let found = household_pet(platform, scope, client_id, pet_id).await?;
    let mut active = found.into_active_model();
    let now = platform.clock.now();
    if inactive {
        active.owner_inactive_at = Set(Some(now));
        active.owner_inactive_reason = Set(reason);
    } else {
        active.owner_inactive_at = Set(None);
        active.owner_inactive_reason = Set(None);
    }
    active.updated_at = Set(now);
    Ok(active.update(&platform.db).await?)
}

/// A pet its owner marked inactive, with its household.
#[derive(Debug, Clone)]
pub struct Inactivated {
    /// The pet.
    pub pet: pet::Model,
    /// Its household.
    pub client: client::Model,
}

/// Inactivated Pets: pets owners marked inactive in the app, most recent
/// first (all of the practice, or one household's).
pub async fn inactivated(platform: &Platform, scope: Scope, client_id: Option<Uuid>) -> DomainResult<Vec<Inactivated>> {
    let mut query = pet::Entity::find()
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .filter(pet::Column::OwnerInactiveAt.is_not_null());
    if let Some(client_id) = client_id {
        query = query.filter(pet::Column::ClientId.eq(client_id));
    }
    let pets = query.order_by_desc(pet::Column::OwnerInactiveAt).limit(500).all(&platform.db).await?;
    let ids: Vec<Uuid> = pets.iter().map(|p| p.client_id).collect();
    let households = client::Entity::find()
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .filter(client::Column::Id.is_in(ids))
        .all(&platform.db)
        .await?;
    Ok(pets
        .into_iter()
        .filter_map(|pet| {
            let client = households.iter().find(|c| c.id == pet.client_id)?.clone();
            Some(Inactivated { pet, client })
        })
        .collect())
}
