//! Staff performance in the staff API: plan points against goals.

use petbridge_domain::{
    Platform,
    kernel::permissions::Permission,
    performance::{self, Period, StaffPerformance},
};
use petbridge_http::{
    ApiResult,
    fields::{Between, Limited},
};
use poem::web::Data;
use poem_openapi::{Enum, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::Done,
    tags::Tag,
};

/// A goal's period.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum GoalPeriod {
    /// Monday to Sunday.
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
    /// Calendar year.
    Year,
}

impl From<GoalPeriod> for Period {
    fn from(period: GoalPeriod) -> Self {
        match period {
            GoalPeriod::Week => Period::Week,
            GoalPeriod::Month => Period::Month,
            GoalPeriod::Quarter => Period::Quarter,
            GoalPeriod::Year => Period::Year,
        }
    }
}

/// A goal to set.
#[derive(Debug, Object)]
pub struct Goal {
    /// Plan points per period; 0 removes the goal.
    pub points: Limited<i32, Between<0, { performance::MAX_GOAL_POINTS as i64 }>>,
}

/// Points earned in the current period against the goal.
#[derive(Debug, Object)]
pub struct PeriodProgress {
    /// `week`, `month`, `quarter` or `year`.
    pub period: String,
    /// Points earned so far in the current period (practice time zone).
    pub earned: i64,
    /// The goal, if set.
    pub goal: Option<i64>,
    /// `green` (reached), `yellow` (at least 75 %) or `red`; absent without a goal.
    pub standing: Option<String>,
}

/// One staff member's performance.
#[derive(Debug, Object)]
pub struct Performance {
    /// The staff member.
    pub staff_id: Uuid,
    /// User name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Week, month, quarter and year.
    pub periods: Vec<PeriodProgress>,
}

impl From<StaffPerformance> for Performance {
    fn from(row: StaffPerformance) -> Self {
        Self {
            staff_id: row.staff_id,
            username: row.username,
            display_name: row.display_name,
            periods: row
                .periods
                .into_iter()
                .map(|p| PeriodProgress {
                    period: p.period.as_str().to_owned(),
                    earned: p.earned,
                    goal: p.goal,
                    standing: p.standing.map(|s| s.as_str().to_owned()),
                })
                .collect(),
        }
    }
}

/// This feature's operations of the staff API.
pub struct PerformanceApi;

#[OpenApi]
impl PerformanceApi {
    /// Plan points earned against goals, for everyone.
    #[oai(path = "/performance", method = "get", tag = "Tag::Performance", operation_id = "listPerformance")]
    async fn list_performance(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Performance>>> {
        authorize(&platform, &auth, Permission::PerformanceManage).await?;
        let rows = performance::report(&platform, auth.principal().scope()).await?;
        Ok(Json(rows.into_iter().map(Performance::from).collect()))
    }
    /// Set a staff member's goal for a period.
    #[oai(path = "/users/:id/goals/:period", method = "put", tag = "Tag::Performance", operation_id = "setGoal")]
    async fn set_goal(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        period: Path<GoalPeriod>,
        body: Json<Goal>,
    ) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::PerformanceManage).await?;
        let scope = auth.principal().scope();
        performance::set_goal(&platform, scope, &allowed.actor, auth.origin(), id.0, period.0.into(), *body.points)
            .await?;
        Ok(Done::NoContent)
    }
}
