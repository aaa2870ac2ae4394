//! Refill orders and appointment requests from the app, in the staff API.

use chrono::{DateTime, Utc};
use petbridge_domain::sea_orm::ActiveEnum as _;
use petbridge_domain::{
    Code, Platform,
    db::entities::owner_request,
    kernel::permissions::Permission,
    requests::{self, Filter, Kind, Status},
};
use petbridge_http::{ApiError, ApiResult, RequestContext};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{
    auth::{ManagerOverride, StaffAuth, authorize},
    tags::Tag,
};

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
        let next = requests::next_steps(r.kind, r.status).iter().map(ToString::to_string).collect();
        Self {
            preferred_times: r.preferred_times.and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default(),
            id: r.id,
            client_id: r.client_id,
            kind: r.kind.to_string(),
            pet_id: r.pet_id,
            details: r.details,
            status: r.status.to_string(),
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

/// This feature's operations of the staff API.
pub struct RequestsApi;

#[OpenApi]
impl RequestsApi {
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
        let to = Status::try_from_value(&body.0.status).map_err(|_| {
            ApiError::from(petbridge_domain::DomainError::with(Code::InvalidStatus, "not a request status"))
        })?;
        let scope = auth.principal().scope();
        let note = body.0.note.as_deref();
        Ok(Json(requests::advance(&platform, scope, &allowed.actor, &context.origin, id.0, to, note).await?.into()))
    }
}
