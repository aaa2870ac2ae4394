//! Practice-wide sends in the staff API: Reinvite All and message-center
//! blasts.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    campaigns::{self, NewBlast},
    db::entities::campaign,
    kernel::permissions::Permission,
};
use petbridge_http::{ApiResult, fields::Text};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    tags::Tag,
};

/// A blast to send.
#[derive(Debug, Object)]
pub struct NewBlastBody {
    /// The notification's title.
    pub title: Text<1, { campaigns::MAX_TITLE_CHARS }>,
    /// Its text.
    pub body: Text<1, { campaigns::MAX_BODY_CHARS }>,
    /// When to send it; absent sends it at once.
    pub send_at: Option<DateTime<Utc>>,
}

/// A campaign: a blast or Reinvite All.
#[derive(Debug, Object)]
pub struct CampaignInfo {
    /// Id.
    pub id: Uuid,
    /// `blast` or `reinvite_all`.
    pub kind: String,
    /// A blast's title.
    pub title: Option<String>,
    /// A blast's text.
    pub body: Option<String>,
    /// Who asked for it.
    pub created_by: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it goes out.
    pub run_at: Option<DateTime<Utc>>,
    /// When its deliveries were queued; absent while it waits.
    pub done_at: Option<DateTime<Utc>>,
    /// How many it reached (app users with a device, or invitations).
    pub recipients: i32,
}

impl From<campaign::Model> for CampaignInfo {
    fn from(c: campaign::Model) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            title: c.title,
            body: c.body,
            created_by: c.created_by,
            created_at: c.sent_at,
            run_at: c.run_at,
            done_at: c.done_at,
            recipients: c.recipients,
        }
    }
}

/// A blast was recorded.
#[derive(ApiResponse)]
pub enum BlastCreated {
    /// Recorded; the campaigns job sends it at its time.
    #[oai(status = 201)]
    Created(Json<CampaignInfo>),
}

/// What Reinvite All did.
#[derive(Debug, Object)]
pub struct ReinviteResult {
    /// Invitations to be sent (the campaigns job queues them within a minute).
    pub invited: u32,
    /// The first day it may be sent again.
    pub next_allowed_on: NaiveDate,
}

/// This feature's operations of the staff API.
pub struct CampaignsApi;

#[OpenApi]
impl CampaignsApi {
    /// Reinvite All: invites everyone listed who has not downloaded the app.
    /// Once per calendar month per practice; otherwise 409 `reinvite_already_sent`.
    #[oai(path = "/clients/reinvite-all", method = "post", tag = "Tag::Clients", operation_id = "reinviteAllClients")]
    async fn reinvite_all(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<ReinviteResult>> {
        let allowed = authorize(&platform, &auth, Permission::CampaignsSend).await?;
        let outcome = petbridge_domain::campaigns::reinvite::reinvite_all(
            &platform,
            auth.principal().scope(),
            &allowed.actor,
            auth.origin(),
        )
        .await?;
        Ok(Json(ReinviteResult { invited: outcome.invited, next_allowed_on: outcome.next_allowed_on }))
    }
    /// Message-center blast: a push notification to every app user, now or at `send_at`.
    /// Disabled accounts and households that turned push off are skipped, and each skip says why.
    #[oai(path = "/campaigns/blasts", method = "post", tag = "Tag::Campaigns", operation_id = "sendBlast")]
    async fn send_blast(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<NewBlastBody>,
    ) -> ApiResult<BlastCreated> {
        let allowed = authorize(&platform, &auth, Permission::CampaignsSend).await?;
        let new =
            NewBlast { title: body.0.title.into_inner(), body: body.0.body.into_inner(), send_at: body.0.send_at };
        let blast =
            campaigns::schedule_blast(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), new).await?;
        Ok(BlastCreated::Created(Json(blast.into())))
    }
    /// The practice's campaigns (blasts and Reinvite All), newest first.
    #[oai(path = "/campaigns", method = "get", tag = "Tag::Campaigns", operation_id = "listCampaigns")]
    async fn list_campaigns(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<CampaignInfo>>> {
        authorize(&platform, &auth, Permission::OutboxView).await?;
        let rows = campaigns::list(&platform, auth.principal().scope(), 100).await?;
        Ok(Json(rows.into_iter().map(CampaignInfo::from).collect()))
    }
}
