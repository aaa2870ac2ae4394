//! Send notification, and a household's notifications, in the staff API.

use petbridge_domain::{
    Cursor, Platform,
    kernel::{paging::page_limit, permissions::Permission},
    notifications::{self, NewNotification},
};
use petbridge_http::{
    ApiResult,
    fields::{PageSize, Text},
};
use petbridge_realtime::chat::{NotificationPage, NotificationView};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// A notification to send.
#[derive(Debug, Object)]
pub struct NotificationBody {
    /// Its title.
    pub title: Text<1, { notifications::MAX_TITLE_CHARS }>,
    /// Its text.
    pub body: Text<1, { notifications::MAX_BODY_CHARS }>,
    /// A picture to show with it (an https URL)…
    pub image_url: Option<String>,
    /// …or one of the household's favourite (hearted) selfies.
    pub selfie_id: Option<Uuid>,
}

/// A sent notification.
#[derive(ApiResponse)]
enum NotificationSent {
    /// Stored in the client's inbox and queued as a push to each device.
    #[oai(status = 201)]
    Created(Json<NotificationView>),
}

/// This feature's operations of the staff API.
pub struct NotificationsApi;

#[OpenApi]
impl NotificationsApi {
    /// Send a one-way notification to a client: kept in their app's inbox and pushed to each device.
    #[oai(
        path = "/clients/:id/notifications",
        method = "post",
        tag = "Tag::Notifications",
        operation_id = "notifyClient"
    )]
    async fn notify(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<NotificationBody>,
    ) -> ApiResult<NotificationSent> {
        let allowed = authorize(&platform, &auth, Permission::NotificationsSend).await?;
        let new = NewNotification {
            title: body.0.title.into_inner(),
            body: body.0.body.into_inner(),
            image_url: body.0.image_url,
            selfie_id: body.0.selfie_id,
        };
        let scope = auth.principal().scope();
        let sent = notifications::send(&platform, scope, &allowed.actor, auth.origin(), id.0, new).await?;
        Ok(NotificationSent::Created(Json(sent.into())))
    }
    /// The notifications sent to a client, newest first.
    #[oai(
        path = "/clients/:id/notifications",
        method = "get",
        tag = "Tag::Notifications",
        operation_id = "listClientNotifications"
    )]
    async fn client_notifications(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        after: Query<Option<String>>,
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<NotificationPage>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page = notifications::inbox(
            &platform,
            auth.principal().scope(),
            id.0,
            after,
            page_limit(limit.0.as_deref().copied())?,
        )
        .await?;
        Ok(Json(NotificationPage {
            items: page.items.into_iter().map(NotificationView::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }
}
