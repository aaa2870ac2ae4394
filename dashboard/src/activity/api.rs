//! The activity log in the staff API: list and export.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Cursor, Platform, activity as activity_log,
    db::entities::activity,
    kernel::{paging::page_limit, permissions::Permission},
};
use petbridge_http::{ApiResult, fields::PageSize};
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::Query,
    payload::{Json, PlainText},
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::Csv,
    tags::Tag,
};

/// One activity log entry.
#[derive(Debug, Object)]
pub struct ActivityEntry {
    /// Id.
    pub id: Uuid,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (a user name, or the system).
    pub actor: String,
    /// Who approved it with their credentials (manager override).
    pub approver: Option<String>,
    /// What, e.g. `auth.login`, `staff.lock`.
    pub action: String,
    /// The kind of record touched.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// More about it.
    pub detail: Option<serde_json::Value>,
    /// The client's address.
    pub ip: Option<String>,
    /// The request it happened in.
    pub request_id: Option<String>,
}

impl From<activity::Model> for ActivityEntry {
    fn from(entry: activity::Model) -> Self {
        Self {
            id: entry.id,
            occurred_at: entry.occurred_at,
            actor: entry.actor_name,
            approver: entry.approver_name,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            detail: entry.detail,
            ip: entry.ip,
            request_id: entry.request_id,
        }
    }
}

/// A page of the activity log, newest first.
#[derive(Debug, Object)]
pub struct ActivityPage {
    /// Entries.
    pub items: Vec<ActivityEntry>,
    /// Pass as `after` for the next page.
    pub next: Option<String>,
}

fn activity_filter(
    action: Option<String>,
    actor: Option<String>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> activity_log::Filter {
    activity_log::Filter { action, actor, from, until }
}

/// This feature's operations of the staff API.
pub struct ActivityApi;

#[OpenApi]
impl ActivityApi {
    /// The activity log, newest first, filtered.
    #[oai(path = "/activity", method = "get", tag = "Tag::Activity", operation_id = "listActivity")]
    #[allow(clippy::too_many_arguments, reason = "one per query parameter the list takes")]
    async fn list_activity(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// Actions starting with this, e.g. `auth.` or `staff.lock`.
        action: Query<Option<String>>,
        /// Entries by this user name (as actor or approver).
        actor: Query<Option<String>>,
        /// From this time on.
        from: Query<Option<DateTime<Utc>>>,
        /// Before this time.
        until: Query<Option<DateTime<Utc>>>,
        /// The `next` of the previous page.
        after: Query<Option<String>>,
        /// Items per page, 1 to 200 (default 50).
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<ActivityPage>> {
        authorize(&platform, &auth, Permission::ActivityLogView).await?;
        let filter = activity_filter(action.0, actor.0, from.0, until.0);
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page = activity_log::list(
            &platform,
            auth.principal().scope(),
            &filter,
            after,
            page_limit(limit.0.as_deref().copied())?,
        )
        .await?;
        Ok(Json(ActivityPage {
            items: page.items.into_iter().map(ActivityEntry::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }
    /// The activity log as CSV, with the same filters.
    #[oai(path = "/activity/export", method = "get", tag = "Tag::Activity", operation_id = "exportActivity")]
    async fn export_activity(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// Actions starting with this.
        action: Query<Option<String>>,
        /// Entries by this user name.
        actor: Query<Option<String>>,
        /// From this time on.
        from: Query<Option<DateTime<Utc>>>,
        /// Before this time.
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Csv> {
        let who = authorize(&platform, &auth, Permission::ActivityLogView).await?;
        let filter = activity_filter(action.0, actor.0, from.0, until.0);
        let csv = activity_log::export_csv(&platform, auth.principal().scope(), &who, auth.origin(), &filter).await?;
        Ok(Csv::Ok(PlainText(csv), "attachment; filename=\"activity-log.csv\"".to_owned()))
    }
}
