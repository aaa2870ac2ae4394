//! Orders (food or medication refills) and appointment requests that owners
//! make in the app. Staff move each through its steps and the owner is told
//! of every step in the notifications inbox and by push:
//!
//! - an order: requested → accepted → ready → completed, or declined;
//! - an appointment request: requested → confirmed → completed, or declined.
//!
//! The owner may cancel while nothing is settled yet. The app may choose a
//! request's id, so a retried call makes nothing twice.

use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{owner_request, pet},
    notifications::{self, NewNotification},
    practices,
};

pub use crate::db::entities::owner_request::{Kind, Status};

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Appointment => "appointment request",
        }
    }
}

impl Status {
    /// How it reads on the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Self::Requested => "Requested",
            Self::Accepted => "Accepted",
            Self::Confirmed => "Confirmed",
            Self::Ready => "Ready",
            Self::Completed => "Completed",
            Self::Declined => "Declined",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// The steps staff may take from `from` for a request of `kind`.
pub fn next_steps(kind: Kind, from: Status) -> &'static [Status] {
    use Status::*;
    match (kind, from) {
        (Kind::Order, Requested) => &[Accepted, Declined],
        (Kind::Order, Accepted) => &[Ready, Declined],
        (Kind::Order, Ready) => &[Completed],
        (Kind::Appointment, Requested) => &[Confirmed, Declined],
        (Kind::Appointment, Confirmed) => &[Completed, Declined],
        _ => &[],
    }
}

/// A request made in the app.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Chosen by the app to make a retry harmless; made here when absent.
    pub id: Option<Uuid>,
    /// Order or appointment.
    pub kind: Kind,
    /// The pet it is for (needed for an appointment).
    pub pet_id: Option<Uuid>,
    /// What is ordered, or the reason for the visit (1 to 1,000 characters).
    pub details: String,
    /// Appointment requests: up to 5 preferred times, as the owner writes them.
    pub preferred_times: Vec<String>,
}

/// A stored request and whether it was made before (a retried call).
#[derive(Debug, Clone)]
pub struct Made {
    /// The request.
    pub request: owner_request::Model,
    /// It already existed under the id the app chose.
    pub replayed: bool,
}

/// The longest order or appointment reason.
pub const MAX_DETAILS_CHARS: usize = 1_000;

/// The most preferred times an appointment request gives…
pub const MAX_PREFERRED_TIMES: usize = 5;

/// …and the longest of them.
pub const MAX_TIME_CHARS: usize = 100;

/// The longest note the practice sends with a step.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// The owner makes a request.
pub async fn make(platform: &Platform, scope: Scope, client_id: Uuid, new: NewRequest) -> DomainResult<Made> {
    let details = new.details.trim().to_owned();
    if !(1..=MAX_DETAILS_CHARS).contains(&details.chars().count()) {
        let what = if new.kind == Kind::Order { "an order says what is wanted" } else { "a request gives a reason" };
        return Err(DomainError::with(Code::InvalidDetails, format!("{what} in 1 to 1,000 characters")));
    }
    let times: Vec<String> =
        new.preferred_times.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    if times.len() > MAX_PREFERRED_TIMES || times.iter().any(|t| t.chars().count() > MAX_TIME_CHARS) {
        return Err(DomainError::with(Code::InvalidPreferredTimes, "up to 5 preferred times of 100 characters each"));
    }
    if new.kind == Kind::Appointment && new.pet_id.is_none() {
        return Err(DomainError::with(Code::PetRequired, "say which pet the appointment is for"));
    }
    if let Some(pet_id) = new.pet_id {
        household_pet(&platform.db, scope, client_id, pet_id).await?;
    }
    let id = new.id.unwrap_or_else(Uuid::new_v4);
    let now = platform.clock.now();
    let row = owner_request::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        pet_id: Set(new.pet_id),
        kind: Set(new.kind),
        details: Set(details),
        preferred_times: Set((new.kind == Kind::Appointment).then(|| serde_json::json!(times))),
        status: Set(Status::Requested),
        staff_note: Set(None),
        updated_by: Set(Some("owner".into())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    match owner_request::Entity::insert(row).exec_with_returning(&platform.db).await {
        Ok(request) => Ok(Made { request, replayed: false }),
        // A retry (racing the original or not): the original stands.
        Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            match owner_request::Entity::find_by_id(id).one(&platform.db).await? {
                Some(existing) if existing.client_id == client_id && existing.kind == new.kind => {
                    Ok(Made { request: existing, replayed: true })
                }
                _ => Err(Code::IdInUse.into()),
            }
        }
        Err(err) => Err(err.into()),
    }
}

async fn household_pet(conn: &impl ConnectionTrait, scope: Scope, client_id: Uuid, pet_id: Uuid) -> DomainResult<()> {
    pet::Entity::find_by_id(pet_id)
        .filter(pet::Column::ClientId.eq(client_id))
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| DomainError::with(Code::UnknownPet, "that pet is not in this household"))
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Only orders, or only appointment requests.
    pub kind: Option<Kind>,
    /// Only those for this pet.
    pub pet_id: Option<Uuid>,
}

/// A household's requests, newest first.
pub async fn of_household(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    filter: Filter,
) -> DomainResult<Vec<owner_request::Model>> {
    let mut query = owner_request::Entity::find()
        .filter(owner_request::Column::ClientId.eq(client_id))
        .filter(owner_request::Column::PracticeId.eq(scope.practice_id));
    if let Some(kind) = filter.kind {
        query = query.filter(owner_request::Column::Kind.eq(kind));
    }
    if let Some(pet_id) = filter.pet_id {
        query = query.filter(owner_request::Column::PetId.eq(pet_id));
    }
    Ok(query
        .order_by_desc(owner_request::Column::CreatedAt)
        .order_by_desc(owner_request::Column::Id)
        .limit(500)
        .all(&platform.db)
        .await?)
}

/// The owner withdraws a request nobody has settled (requested, or a
/// confirmed appointment); `cannot_cancel` otherwise.
pub async fn cancel(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    id: Uuid,
) -> DomainResult<owner_request::Model> {
    let txn = platform.begin_write().await?;
    let found = owner_request::Entity::find_by_id(id)
        .filter(owner_request::Column::ClientId.eq(client_id))
        .filter(owner_request::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    match found.status {
        Status::Cancelled => return Ok(found),
        Status::Requested | Status::Confirmed => {}
        _ => return Err(Code::CannotCancel.into()),
    }
    let mut active = found.into_active_model();
    active.status = Set(Status::Cancelled);
    active.updated_by = Set(Some("owner".into()));
    active.updated_at = Set(platform.clock.now());
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// Staff move a request to its next step, with an optional note for the
/// owner, who is notified. Asking for the step it is at changes nothing;
/// a step its kind does not allow from here is `invalid_transition`.
pub async fn advance(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    to: Status,
    note: Option<&str>,
) -> DomainResult<owner_request::Model> {
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(DomainError::with(Code::InvalidNote, "a note has at most 1,000 characters"));
    }
    let practice = practices::get(platform, scope).await?;
    let txn = platform.begin_write().await?;
    let found = owner_request::Entity::find_by_id(id)
        .filter(owner_request::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let kind = found.kind;
    let from = found.status;
    if from == to {
        return Ok(found);
    }
    if !next_steps(kind, from).contains(&to) {
        return Err(DomainError::with(
            Code::InvalidTransition,
            format!("a {} that is {} cannot become {}", kind.noun(), from.to_value(), to.to_value()),
        ));
    }
    let (client_id, details) = (found.client_id, found.details.clone());
    let mut active = found.into_active_model();
    active.status = Set(to);
    active.staff_note = Set(note.clone());
    active.updated_by = Set(Some(actor.name.clone()));
    active.updated_at = Set(platform.clock.now());
    let row = active.update(&txn).await?;
    let short: String = details.chars().take(60).collect();
    let what = match kind {
        Kind::Order => format!("Your order ({short})"),
        Kind::Appointment => format!("Your appointment request ({short})"),
    };
    let step = match to {
        Status::Accepted => "is accepted; we will tell you when it is ready.",
        Status::Confirmed => "is confirmed.",
        Status::Ready => "is ready to pick up.",
        Status::Completed => "is completed. Thank you!",
        Status::Declined => "was declined.",
        Status::Requested | Status::Cancelled => "changed.",
    };
    let mut body = format!("{what} {step}");
    if let Some(note) = &note {
        body.push(' ');
        body.push_str(note);
    }
    let body: String = body.chars().take(2_000).collect();
    let message = NewNotification { title: practice.name, body, image_url: None, selfie_id: None };
    let reason = format!("{} {} by {}", kind.noun(), to.to_value(), actor.name);
    notifications::deliver(&txn, platform, scope, client_id, &message, actor.id, reason).await?;
    let log = Entry::new("request.updated", actor, origin).target("client", client_id).detail(
        serde_json::json!({ "request_id": row.id, "kind": kind.to_value(), "from": from.to_value(), "to": to.to_value() }),
    );
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_steps_and_settled_requests_stay_settled() {
        assert!(next_steps(Kind::Order, Status::Requested).contains(&Status::Accepted));
        assert!(!next_steps(Kind::Order, Status::Requested).contains(&Status::Confirmed));
        assert!(next_steps(Kind::Appointment, Status::Requested).contains(&Status::Confirmed));
        assert!(!next_steps(Kind::Appointment, Status::Confirmed).contains(&Status::Ready));
        for settled in [Status::Completed, Status::Declined, Status::Cancelled] {
            assert!(next_steps(Kind::Order, settled).is_empty());
            assert!(next_steps(Kind::Appointment, settled).is_empty());
        }
    }
}
