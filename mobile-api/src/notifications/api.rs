//! The notifications inbox in the app API.

use petbridge_domain::{Cursor, Platform, kernel::paging::page_limit, notifications, owners::accounts};
use petbridge_http::{ApiResult, fields::PageSize};
use petbridge_realtime::chat::{NotificationPage, NotificationView};
use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{auth::OwnerAuth, tags::Tag};

/// This feature's operations of the app API.
pub struct NotificationsApi;

#[OpenApi]
impl NotificationsApi {
    /// The notifications inbox, newest first.
    #[oai(path = "/notifications", method = "get", tag = "Tag::Notifications", operation_id = "listNotifications")]
    async fn notifications(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        after: Query<Option<String>>,
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<NotificationPage>> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page = notifications::inbox(
            &platform,
            auth.0.scope(),
            household.id,
            after,
            page_limit(limit.0.as_deref().copied())?,
        )
        .await?;
        let items = notifications::for_owner(&platform, page.items).await?;
        Ok(Json(NotificationPage {
            items: items.into_iter().map(NotificationView::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }
    /// Mark a notification read.
    #[oai(
        path = "/notifications/:id/read",
        method = "post",
        tag = "Tag::Notifications",
        operation_id = "markNotificationRead"
    )]
    async fn read_notification(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<NotificationView>> {
        auth.0.require_verified()?;
        let household = accounts::household(&platform, &auth.0).await?;
        let read = notifications::mark_read(&platform, auth.0.scope(), household.id, id.0).await?;
        let mut shown = notifications::for_owner(&platform, vec![read]).await?;
        Ok(Json(shown.pop().ok_or(petbridge_domain::DomainError::NotFound)?.into()))
    }
}
