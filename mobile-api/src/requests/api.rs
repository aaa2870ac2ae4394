//! Refill orders and appointment requests in the app API.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    db::entities::owner_request,
    requests::{self, Filter, Kind, NewRequest, Status},
};
use petbridge_http::{
    ApiResult,
    fields::{Items, Limited, Stored, Text},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{
    auth::{OwnerAuth, household_id},
    tags::Tag,
};

/// An order or an appointment request.
#[derive(Debug, Object)]
pub struct OwnerRequest {
    /// Id.
    pub id: Uuid,
    /// An order (a refill) or an appointment request.
    pub kind: Stored<Kind>,
    /// The pet it is for.
    pub pet_id: Option<Uuid>,
    /// What is ordered, or the reason for the visit.
    pub details: String,
    /// Appointment requests: the times the owner prefers.
    pub preferred_times: Vec<String>,
    /// Orders: requested → accepted → ready → completed; appointment
    /// requests: requested → confirmed → completed; either may be
    /// `declined` by the practice or `cancelled` by the owner.
    pub status: Stored<Status>,
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
            kind: r.kind.into(),
            pet_id: r.pet_id,
            details: r.details,
            status: r.status.into(),
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
    pub details: Text<1, { requests::MAX_DETAILS_CHARS }>,
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
    pub reason: Text<1, { requests::MAX_DETAILS_CHARS }>,
    /// Times that suit, as the owner writes them ("Tue morning").
    #[oai(default)]
    pub preferred_times: Limited<Vec<Text<0, { requests::MAX_TIME_CHARS }>>, Items<{ requests::MAX_PREFERRED_TIMES }>>,
    /// An id the app makes: sending it again returns the same request.
    pub id: Option<Uuid>,
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

/// This feature's operations of the app API.
pub struct RequestsApi;

#[OpenApi]
impl RequestsApi {
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
            details: b.details.into_inner(),
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
            details: b.reason.into_inner(),
            preferred_times: b.preferred_times.into_inner().into_iter().map(Limited::into_inner).collect(),
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
