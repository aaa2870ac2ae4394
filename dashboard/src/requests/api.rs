//! Refill orders and appointment requests from the app, in the staff API.

use chrono::{DateTime, Utc};
use petbridge_domain::sea_orm::ActiveEnum as _;
use petbridge_domain::{
    Code, Platform,
    db::entities::owner_request,
    kernel::permissions::Permission,
    requests::{self, Filter, Kind, Status},
};
use petbridge_http::{
    ApiError, ApiResult,
    fields::{Limited, Names, Stored, Text},
};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// An order or appointment request.
#[derive(Debug, Object)]
pub struct OwnerRequest {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// An order (a refill) or an appointment request.
    pub kind: Stored<Kind>,
    /// The pet.
    pub pet_id: Option<Uuid>,
    /// What is ordered, or the reason for the visit.
    pub details: String,
    /// Appointment requests: the times the owner prefers.
    pub preferred_times: Vec<String>,
    /// Where it stands.
    pub status: Stored<Status>,
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
        let next = requests::next_steps(r.kind, r.status).iter().map(ToString::to_string).collect();
        Self {
            preferred_times: r.preferred_times.and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
            id: r.id,
            client_id: r.client_id,
            kind: r.kind.into(),
            pet_id: r.pet_id,
            details: r.details,
            status: r.status.into(),
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
    pub status: Limited<String, Names<Status>>,
    /// A note for the owner, sent with the notification.
    pub note: Option<Text<0, { requests::MAX_NOTE_CHARS }>>,
}

/// This feature's operations of the staff API.
pub struct RequestsApi;

#[OpenApi]
impl RequestsApi {
    /// A household's orders and appointment requests, newest first.
    #[oai(path = "/clients/:id/requests", method = "get", tag = "Tag::Requests", operation_id = "listClientRequests")]
    async fn requests(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        /// Only those for this pet.
        pet_id: Query<Option<Uuid>>,
        /// Only orders, or only appointment requests.
        kind: Query<Option<Stored<Kind>>>,
    ) -> ApiResult<Json<Vec<OwnerRequest>>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let scope = auth.principal().scope();
        petbridge_domain::households::clients::get(&platform, scope, id.0).await?;
        let kind = kind.0.map(|k| k.0);
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
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<RequestUpdate>,
    ) -> ApiResult<Json<OwnerRequest>> {
        let allowed = authorize(&platform, &auth, Permission::RequestsManage).await?;
        let to = Status::try_from_value(&body.0.status).map_err(|_| {
            ApiError::from(petbridge_domain::DomainError::with(Code::InvalidStatus, "not a request status"))
        })?;
        let scope = auth.principal().scope();
        let note = body.0.note.as_deref().map(String::as_str);
        Ok(Json(requests::advance(&platform, scope, &allowed.actor, auth.origin(), id.0, to, note).await?.into()))
    }
}
