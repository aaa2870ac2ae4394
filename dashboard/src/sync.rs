//! The PMS sync API, `/api/sync/v1`, for the agent that runs at a practice.

use chrono::{DateTime, Utc};
use petbridge_domain::Platform;
use petbridge_http::ApiResult;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

/// The sync API.
pub struct SyncApi;

/// What the agent checks before it syncs.
#[derive(Debug, Object)]
pub struct SyncStatus {
    /// This API's version.
    pub api_version: String,
    /// The server's clock, so the agent can tell its own is off.
    pub server_time: DateTime<Utc>,
}

#[OpenApi]
impl SyncApi {
    /// The API version and the server's time.
    #[oai(path = "/status", method = "get", operation_id = "getSyncStatus")]
    async fn status(&self, platform: Data<&Platform>) -> ApiResult<Json<SyncStatus>> {
        Ok(Json(SyncStatus { api_version: crate::API_VERSION.to_owned(), server_time: platform.clock.now() }))
    }
}
