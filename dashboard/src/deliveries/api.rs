//! What was sent and what became of it: deliveries and their monthly volumes.

use chrono::{DateTime, Duration, Utc};
use petbridge_domain::{
    Code, Cursor, Platform,
    db::entities::delivery::{self, DeliveryStatus},
    deliveries::outbox,
    kernel::{paging::page_limit, permissions::Permission},
};
use petbridge_http::{
    ApiResult,
    fields::{PageSize, Stored},
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

/// Deliveries of one channel in one status.
#[derive(Debug, Object)]
pub struct VolumeRow {
    /// `push`, `sms` or `email`.
    pub channel: String,
    /// Where it stands.
    pub status: Stored<DeliveryStatus>,
    /// How many.
    pub count: i64,
}

/// Message and delivery volumes over a period.
#[derive(Debug, Object)]
pub struct DeliveryVolumes {
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub until: DateTime<Utc>,
    /// Counts by channel and status.
    pub rows: Vec<VolumeRow>,
}

/// One outgoing delivery.
#[derive(Debug, Object)]
pub struct Delivery {
    /// Id.
    pub id: Uuid,
    /// `push`, `sms` or `email`.
    pub channel: String,
    /// Device, number or address.
    pub recipient: String,
    /// Subject or title.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// Why it was sent.
    pub reason: String,
    /// Where it stands.
    pub status: Stored<DeliveryStatus>,
    /// Attempts made.
    pub attempts: i32,
    /// Who sent it (`dev` for the development provider).
    pub provider: Option<String>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<delivery::Model> for Delivery {
    fn from(model: delivery::Model) -> Self {
        Self {
            id: model.id,
            channel: model.channel,
            recipient: model.recipient,
            subject: model.subject,
            body: model.body,
            reason: model.reason,
            status: model.status.into(),
            attempts: model.attempts,
            provider: model.provider,
            provider_id: model.provider_id,
            last_error: model.last_error,
            created_at: model.created_at,
            sent_at: model.sent_at,
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Object)]
pub struct DeliveryPage {
    /// The deliveries.
    pub items: Vec<Delivery>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// This feature's operations of the staff API.
pub struct DeliveriesApi;

#[OpenApi]
impl DeliveriesApi {
    /// Message and delivery volumes by channel and status (default: the last 30 days).
    #[oai(path = "/reports/delivery-volumes", method = "get", tag = "Tag::Reports", operation_id = "deliveryVolumes")]
    async fn delivery_volumes(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// Start of the period.
        from: Query<Option<DateTime<Utc>>>,
        /// End of the period (exclusive).
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<DeliveryVolumes>> {
        authorize(&platform, &auth, Permission::ReportsMost).await?;
        // By default up to and including now.
        let until = until.0.unwrap_or_else(|| platform.clock.now() + Duration::seconds(1));
        let from = from.0.unwrap_or(until - Duration::days(30));
        if from >= until {
            return Err(petbridge_domain::DomainError::with(Code::InvalidPeriod, "from must be before until").into());
        }
        let rows = outbox::volumes(&platform, auth.principal().scope(), from, until).await?;
        Ok(Json(DeliveryVolumes {
            from,
            until,
            rows: rows
                .into_iter()
                .map(|(channel, status, count)| VolumeRow { channel, status: status.into(), count })
                .collect(),
        }))
    }
    /// The practice's outgoing deliveries, newest first.
    #[oai(path = "/deliveries", method = "get", tag = "Tag::Deliveries", operation_id = "listDeliveries")]
    async fn deliveries(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// The `next` of the previous page.
        after: Query<Option<String>>,
        /// Items per page, 1 to 200 (default 50).
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<DeliveryPage>> {
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page =
            outbox::list(&platform, auth.principal().scope(), after, page_limit(limit.0.as_deref().copied())?).await?;
        Ok(Json(DeliveryPage {
            items: page.items.into_iter().map(Delivery::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }
    /// One delivery.
    #[oai(path = "/deliveries/:id", method = "get", tag = "Tag::Deliveries", operation_id = "getDelivery")]
    async fn delivery(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Delivery>> {
        Ok(Json(outbox::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
}
