//! Staff performance: plan points earned against the goals administrators
//! set per user for the week, month, quarter and year (in the practice's
//! time zone). Plan enrolments award points through [`award_plan_points`].

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{performance_goal, plan_point_award},
    practices,
    staff::accounts,
};

/// A goal's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 4] = [Period::Week, Period::Month, Period::Quarter, Period::Year];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| DomainError::with(Code::InvalidPeriod, "period is week, month, quarter or year"))
    }

    /// The first day of the period that contains `day`.
    fn first_day(self, day: NaiveDate) -> NaiveDate {
        let first_of = |month: u32| NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day);
        match self {
            Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Period::Month => first_of(day.month()),
            Period::Quarter => first_of((day.month0() / 3) * 3 + 1),
            Period::Year => first_of(1),
        }
    }

    /// The first day of the next period.
    fn next_first_day(self, first: NaiveDate) -> NaiveDate {
        match self {
            Period::Week => first + Duration::days(7),
            Period::Month => first.checked_add_months(chrono::Months::new(1)).unwrap_or(first),
            Period::Quarter => first.checked_add_months(chrono::Months::new(3)).unwrap_or(first),
            Period::Year => first.checked_add_months(chrono::Months::new(12)).unwrap_or(first),
        }
    }

    /// The current period around `now` in `zone`, as UTC instants `[start, end)`.
    pub fn window(self, now: DateTime<Utc>, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let first = self.first_day(now.with_timezone(&zone).date_naive());
        let midnight = |day: NaiveDate| {
            zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc(), |t| t.with_timezone(&Utc))
        };
        (midnight(first), midnight(self.next_first_day(first)))
    }
}

/// How a staff member stands against a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Goal reached.
    Green,
    /// At least 75 % of it.
    Yellow,
    /// Below 75 %.
    Red,
}

impl Standing {
    /// Earned against a goal (`None` without a goal).
    pub fn of(earned: i64, goal: i64) -> Option<Self> {
        if goal <= 0 {
            return None;
        }
        Some(if earned >= goal {
            Standing::Green
        } else if earned * 4 >= goal * 3 {
            Standing::Yellow
        } else {
            Standing::Red
        })
    }

    /// Its name (also the CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Green => "green",
            Standing::Yellow => "yellow",
            Standing::Red => "red",
        }
    }
}

/// Awards plan points to a staff member for `plan`, on `conn` (the
/// enrolment's transaction). The one way points are earned; negative points
/// take them back.
pub async fn award_plan_points(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    staff_id: Uuid,
    (points, plan): (i32, Option<Uuid>),
    reason: &str,
) -> DomainResult<()> {
    if points == 0 {
        return Ok(());
    }
    plan_point_award::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        staff_user_id: Set(staff_id),
        points: Set(points),
        reason: Set(reason.to_owned()),
        awarded_at: Set(platform.clock.now()),
        plan_id: Set(plan),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Takes back every point `plan` earned, on `conn` (the cancellation's
/// transaction), staff member by staff member.
pub async fn take_back_plan_points(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    plan: Uuid,
    reason: &str,
) -> DomainResult<i64> {
    let sums: Vec<(Uuid, Option<i64>)> = plan_point_award::Entity::find()
        .select_only()
        .column(plan_point_award::Column::StaffUserId)
        .column_as(plan_point_award::Column::Points.sum(), "earned")
        .filter(plan_point_award::Column::PracticeId.eq(scope.practice_id))
        .filter(plan_point_award::Column::PlanId.eq(plan))
        .group_by(plan_point_award::Column::StaffUserId)
        .into_tuple()
        .all(conn)
        .await?;
    let mut taken = 0;
    for (staff, earned) in sums {
        let earned = i32::try_from(earned.unwrap_or(0)).unwrap_or(0);
        if earned > 0 {
            award_plan_points(conn, platform, scope, staff, (-earned, Some(plan)), reason).await?;
            taken += i64::from(earned);
        }
    }
    Ok(taken)
}

/// The largest goal.
pub const MAX_GOAL_POINTS: i32 = 1_000_000;

/// Sets (or with 0 points, removes) a staff member's goal for a period.
pub async fn set_goal(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    staff_id: Uuid,
    period: Period,
    points: i32,
) -> DomainResult<()> {
    if !(0..=MAX_GOAL_POINTS).contains(&points) {
        return Err(DomainError::with(Code::InvalidGoal, "a goal is 0 to 1,000,000 points"));
    }
    let user = accounts::get(platform, scope, staff_id).await?;
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let updated = performance_goal::Entity::update_many()
        .col_expr(performance_goal::Column::Points, Expr::value(points))
        .col_expr(performance_goal::Column::UpdatedAt, Expr::value(now))
        .filter(performance_goal::Column::StaffUserId.eq(user.id))
        .filter(performance_goal::Column::Period.eq(period.as_str()))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        performance_goal::ActiveModel {
            id: Set(Uuid::new_v4()),
            practice_id: Set(scope.practice_id),
            staff_user_id: Set(user.id),
            period: Set(period.as_str().to_owned()),
            points: Set(points),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    Entry::new("performance.goal_set", actor, origin)
        .target("staff_user", user.id)
        .detail(serde_json::json!({ "username": user.username, "period": period.as_str(), "points": points }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// One period of one staff member's performance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The period.
    pub period: Period,
    /// Points earned in the current period.
    pub earned: i64,
    /// The goal, if set.
    pub goal: Option<i64>,
    /// Green, yellow or red against the goal.
    pub standing: Option<Standing>,
}

/// A staff member's performance.
#[derive(Debug, Clone)]
pub struct StaffPerformance {
    /// Who.
    pub staff_id: Uuid,
    /// Their user name.
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Each period, shortest first.
    pub periods: Vec<Progress>,
}

/// Everyone's points against their goals for the current periods.
pub async fn report(platform: &Platform, scope: Scope) -> DomainResult<Vec<StaffPerformance>> {
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let users = accounts::list(platform, scope).await?;
    let goals = performance_goal::Entity::find()
        .filter(performance_goal::Column::PracticeId.eq(scope.practice_id))
        .all(&platform.db)
        .await?;
    let mut earned = Vec::new();
    for period in Period::ALL {
        let (start, end) = period.window(now, practice.time_zone);
        let sums: Vec<(Uuid, Option<i64>)> = plan_point_award::Entity::find()
            .select_only()
            .column(plan_point_award::Column::StaffUserId)
            .column_as(plan_point_award::Column::Points.sum(), "earned")
            .filter(plan_point_award::Column::PracticeId.eq(scope.practice_id))
            .filter(plan_point_award::Column::AwardedAt.gte(start))
            .filter(plan_point_award::Column::AwardedAt.lt(end))
            .group_by(plan_point_award::Column::StaffUserId)
            .into_tuple()
            .all(&platform.db)
            .await?;
        earned.push((period, sums));
    }
    Ok(users
        .into_iter()
        .map(|user| {
            let periods = earned
                .iter()
                .map(|(period, sums)| {
                    let points = sums.iter().find(|(id, _)| *id == user.id).and_then(|(_, n)| *n).unwrap_or(0);
                    let goal = goals
                        .iter()
                        .find(|g| g.staff_user_id == user.id && g.period == period.as_str())
                        .map(|g| i64::from(g.points))
                        .filter(|g| *g > 0);
                    Progress {
                        period: *period,
                        earned: points,
                        goal,
                        standing: goal.and_then(|g| Standing::of(points, g)),
                    }
                })
                .collect();
            StaffPerformance { staff_id: user.id, username: user.username, display_name: user.display_name, periods }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standings_follow_the_75_percent_line() {
        assert_eq!(Standing::of(10, 10), Some(Standing::Green));
        assert_eq!(Standing::of(12, 10), Some(Standing::Green));
        assert_eq!(Standing::of(75, 100), Some(Standing::Yellow));
        assert_eq!(Standing::of(74, 100), Some(Standing::Red));
        assert_eq!(Standing::of(5, 0), None);
    }

    #[test]
    fn windows_follow_the_practice_calendar() {
        let zone: chrono_tz::Tz = "America/Chicago".parse().unwrap_or(chrono_tz::UTC);
        // Wednesday 2026-11-25 03:00 UTC is still Tuesday evening in Chicago.
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).single().unwrap_or_default();
        let (start, end) = Period::Week.window(now, zone);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 23, 6, 0, 0).single().unwrap_or_default());
        assert_eq!(end - start, Duration::days(7));
        let (start, _) = Period::Quarter.window(now, zone);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 10, 1, 5, 0, 0).single().unwrap_or_default());
        let (start, end) = Period::Year.window(now, zone);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).single().unwrap_or_default());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 6, 0, 0).single().unwrap_or_default());
    }
}
