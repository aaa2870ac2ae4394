//! Selfies and the slideshow in the app API.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    db::entities::selfie,
    selfies::{self, Size},
};
use petbridge_http::{
    ApiResult,
    pictures::{Picture, PictureUpload},
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
    responses::Done,
    tags::Tag,
};

/// A selfie sent to the practice.
#[derive(Debug, Object)]
pub struct Selfie {
    /// Id.
    pub id: Uuid,
    /// The pet in it, if said.
    pub pet_id: Option<Uuid>,
    /// Width of the stored photo, in pixels.
    pub width: i32,
    /// Height of the stored photo, in pixels.
    pub height: i32,
    /// The practice put it in the home-screen slideshow.
    pub starred: bool,
    /// `GET` this for the photo (JPEG).
    pub url: String,
    /// `GET` this for a square thumbnail (JPEG).
    pub thumbnail_url: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

impl From<selfie::Model> for Selfie {
    fn from(s: selfie::Model) -> Self {
        Self {
            url: format!("/api/app/v1/selfies/{}/photo", s.id),
            thumbnail_url: format!("/api/app/v1/selfies/{}/thumbnail", s.id),
            id: s.id,
            pet_id: s.pet_id,
            width: s.width,
            height: s.height,
            starred: s.starred_at.is_some(),
            created_at: s.created_at,
        }
    }
}

/// A stored selfie.
#[derive(ApiResponse)]
enum SelfieStored {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<Selfie>),
}

/// This feature's operations of the app API.
pub struct SelfiesApi;

#[OpenApi]
impl SelfiesApi {
    /// Send a selfie (JPEG, PNG or WebP, checked from the bytes). It is
    /// stored re-encoded, without EXIF or GPS data.
    #[oai(path = "/selfies", method = "post", tag = "Tag::Selfies", operation_id = "uploadSelfie")]
    async fn upload_selfie(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        /// The pet in the photo.
        pet_id: Query<Option<Uuid>>,
        body: PictureUpload,
    ) -> ApiResult<SelfieStored> {
        let household = household_id(&platform, &auth).await?;
        let stored = selfies::upload(&platform, auth.0.scope(), household, pet_id.0, body.into_bytes()).await?;
        Ok(SelfieStored::Created(Json(stored.into())))
    }
    /// The selfies you sent, newest first.
    #[oai(path = "/selfies", method = "get", tag = "Tag::Selfies", operation_id = "listSelfies")]
    async fn list_selfies(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Selfie>>> {
        let household = household_id(&platform, &auth).await?;
        let list = selfies::of_household(&platform, auth.0.scope(), household).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }
    /// The home-screen slideshow: your selfies the practice starred.
    #[oai(path = "/slideshow", method = "get", tag = "Tag::Selfies", operation_id = "getSlideshow")]
    async fn slideshow(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Selfie>>> {
        let household = household_id(&platform, &auth).await?;
        let list = selfies::slideshow(&platform, auth.0.scope(), household).await?;
        Ok(Json(list.into_iter().map(Selfie::from).collect()))
    }
    /// A selfie's photo.
    #[oai(path = "/selfies/:id/photo", method = "get", tag = "Tag::Selfies", operation_id = "getSelfiePhoto")]
    async fn selfie_photo(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.selfie_picture(&auth, &platform, id.0, Size::Full).await
    }
    /// A selfie's square thumbnail.
    #[oai(path = "/selfies/:id/thumbnail", method = "get", tag = "Tag::Selfies", operation_id = "getSelfieThumbnail")]
    async fn selfie_thumbnail(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        self.selfie_picture(&auth, &platform, id.0, Size::Thumbnail).await
    }
    /// Delete a selfie.
    #[oai(path = "/selfies/:id", method = "delete", tag = "Tag::Selfies", operation_id = "deleteSelfie")]
    async fn delete_selfie(&self, auth: OwnerAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let household = household_id(&platform, &auth).await?;
        selfies::delete(&platform, auth.0.scope(), household, id.0).await?;
        Ok(Done::NoContent)
    }
}

impl SelfiesApi {
    async fn selfie_picture(&self, auth: &OwnerAuth, platform: &Platform, id: Uuid, size: Size) -> ApiResult<Picture> {
        let household = household_id(platform, auth).await?;
        let found = selfies::get(platform, auth.0.scope(), Some(household), id).await?;
        Ok(Picture::private(selfies::picture(platform, &found, size).await?, 86_400))
    }
}
