//! The PMS sync as administrators manage it in the staff API: keys and
//! batches.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    db::entities::sync_key,
    kernel::{permissions::Permission, text::MAX_NAME_CHARS},
    sync,
};
use petbridge_http::{ApiResult, fields::Text};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::{
    kit::{
        auth::{StaffAuth, authorize},
        responses::Done,
        tags::Tag,
    },
    sync::agent::BatchResult,
};

/// A sync API key (the secret itself is shown only when created).
#[derive(Debug, Object)]
pub struct SyncKeyInfo {
    /// Id.
    pub id: Uuid,
    /// A name to tell keys apart, e.g. the PMS server's.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked; a revoked key gets 401.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<sync_key::Model> for SyncKeyInfo {
    fn from(k: sync_key::Model) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.key_prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key with its secret: give it to the agent now, it is not shown again.
#[derive(Debug, Object)]
pub struct CreatedSyncKey {
    /// The key.
    pub key: SyncKeyInfo,
    /// The secret (`Authorization: Bearer <secret>`).
    pub secret: String,
}

/// A key to create.
#[derive(Debug, Object)]
pub struct NewSyncKey {
    /// A name to tell keys apart.
    pub name: Text<1, { MAX_NAME_CHARS }>,
}

/// Created.
#[derive(ApiResponse)]
enum KeyCreated {
    /// The new key and its secret.
    #[oai(status = 201)]
    Created(Json<CreatedSyncKey>),
}

/// This feature's operations of the staff API.
pub struct SyncKeysApi;

#[OpenApi]
impl SyncKeysApi {
    /// The PMS sync's API keys.
    #[oai(path = "/sync/keys", method = "get", tag = "Tag::Sync", operation_id = "listSyncKeys")]
    async fn list_keys(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<SyncKeyInfo>>> {
        authorize(&platform, &auth, Permission::AdminTools).await?;
        let keys = sync::keys(&platform, auth.principal().scope()).await?;
        Ok(Json(keys.into_iter().map(SyncKeyInfo::from).collect()))
    }
    /// Create a key for the sync agent; its secret is in this answer only.
    #[oai(path = "/sync/keys", method = "post", tag = "Tag::Sync", operation_id = "createSyncKey")]
    async fn create_key(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<NewSyncKey>,
    ) -> ApiResult<KeyCreated> {
        let allowed = authorize(&platform, &auth, Permission::AdminTools).await?;
        let new =
            sync::create_key(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), &body.0.name).await?;
        Ok(KeyCreated::Created(Json(CreatedSyncKey { key: new.key.into(), secret: new.secret })))
    }
    /// Replace a key by a new one with the same name; the old one stops working.
    #[oai(path = "/sync/keys/:id/rotate", method = "post", tag = "Tag::Sync", operation_id = "rotateSyncKey")]
    async fn rotate_key(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<KeyCreated> {
        let allowed = authorize(&platform, &auth, Permission::AdminTools).await?;
        let new = sync::rotate_key(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0).await?;
        Ok(KeyCreated::Created(Json(CreatedSyncKey { key: new.key.into(), secret: new.secret })))
    }
    /// Revoke a key at once.
    #[oai(path = "/sync/keys/:id", method = "delete", tag = "Tag::Sync", operation_id = "revokeSyncKey")]
    async fn revoke_key(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::AdminTools).await?;
        sync::revoke_key(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0).await?;
        Ok(Done::NoContent)
    }
    /// The latest sync batches with their counts and rejected records.
    #[oai(path = "/sync/batches", method = "get", tag = "Tag::Sync", operation_id = "listSyncBatches")]
    async fn list_batches(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<BatchResult>>> {
        authorize(&platform, &auth, Permission::AdminTools).await?;
        let batches = sync::batches(&platform, auth.principal().scope(), 100).await?;
        Ok(Json(batches.into_iter().map(BatchResult::from).collect()))
    }
}
