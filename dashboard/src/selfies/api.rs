//! Selfies owners sent, in the staff API.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    db::entities::selfie,
    kernel::permissions::Permission,
    selfies::{self, Marks, Size},
};
use petbridge_http::{ApiResult, pictures::Picture};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// A selfie an owner sent.
#[derive(Debug, Object)]
pub struct Selfie {
    /// Id.
    pub id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// The pet in it.
    pub pet_id: Option<Uuid>,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// In the app's home-screen slideshow.
    pub starred: bool,
    /// A favourite for push notifications.
    pub hearted: bool,
    /// The photo (JPEG).
    pub url: String,
    /// Its square thumbnail (JPEG).
    pub thumbnail_url: String,
    /// Sent.
    pub created_at: DateTime<Utc>,
}

impl From<selfie::Model> for Selfie {
    fn from(s: selfie::Model) -> Self {
        Self {
            url: format!("/api/dashboard/v1/selfies/{}/photo", s.id),
            thumbnail_url: format!("/api/dashboard/v1/selfies/{}/thumbnail", s.id),
            id: s.id,
            client_id: s.client_id,
            pet_id: s.pet_id,
            width: s.width,
            height: s.height,
            starred: s.starred_at.is_some(),
            hearted: s.hearted_at.is_some(),
            created_at: s.created_at,
        }
    }
}

/// Star or heart a selfie; fields left out stay.
#[derive(Debug, Object)]
pub struct SelfieUpdate {
    /// In the home-screen slideshow.
    pub starred: Option<bool>,
    /// A favourite for push notifications.
    pub hearted: Option<bool>,
}

/// This feature's operations of the staff API.
pub struct SelfiesApi;

#[OpenApi]
impl SelfiesApi {
    /// A household's selfies, newest first.
    #[oai(path = "/clients/:id/selfies", method = "get", tag = "Tag::Household", operation_id = "listClientSelfies")]
    async fn selfies(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<Selfie>>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let scope = auth.principal().scope();
        petbridge_domain::households::clients::get(&platform, scope, id.0).await?;
        let list = selfies::of_household(&platform, scope, id.0).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }
    /// A selfie's photo.
    #[oai(path = "/selfies/:id/photo", method = "get", tag = "Tag::Household", operation_id = "getClientSelfiePhoto")]
    async fn selfie_photo(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.picture(&auth, &platform, id.0, Size::Full).await
    }
    /// A selfie's square thumbnail.
    #[oai(
        path = "/selfies/:id/thumbnail",
        method = "get",
        tag = "Tag::Household",
        operation_id = "getClientSelfieThumbnail"
    )]
    async fn selfie_thumbnail(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.picture(&auth, &platform, id.0, Size::Thumbnail).await
    }
    /// Star a selfie for the owner's home-screen slideshow, or heart it as a
    /// favourite for push notifications (or take either off).
    #[oai(path = "/selfies/:id", method = "patch", tag = "Tag::Household", operation_id = "updateSelfie")]
    async fn update_selfie(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<SelfieUpdate>,
    ) -> ApiResult<Json<Selfie>> {
        let allowed = authorize(&platform, &auth, Permission::SelfiesCurate).await?;
        let marks = Marks { starred: body.0.starred, hearted: body.0.hearted };
        let scope = auth.principal().scope();
        Ok(Json(selfies::mark(&platform, scope, &allowed.actor, auth.origin(), id.0, marks).await?.into()))
    }
}

impl SelfiesApi {
    async fn picture(&self, auth: &StaffAuth, platform: &Platform, id: Uuid, size: Size) -> ApiResult<Picture> {
        authorize(platform, auth, Permission::ClientsView).await?;
        let found = selfies::get(platform, auth.principal().scope(), None, id).await?;
        Ok(Picture::private(selfies::picture(platform, &found, size).await?, 3_600))
    }
}
