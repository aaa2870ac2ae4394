use chrono::{Duration, TimeZone, Utc};
use petbridge_domain::{Scope, kernel::permissions::SecurityLevel, performance::award_plan_points};
use petbridge_tests::spawn_app;
use serde_json::{Value, json};

fn standing(rows: &Value, username: &str, period: &str) -> (i64, Option<i64>, Option<String>) {
    let row = rows.as_array().unwrap().iter().find(|r| r["username"] == username).unwrap();
    let p = row["periods"].as_array().unwrap().iter().find(|p| p["period"] == period).unwrap();
    (p["earned"].as_i64().unwrap(), p["goal"].as_i64(), p["standing"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn points_awarded_by_enrolments_count_against_goals_per_period() {
    let app = spawn_app().await;
    // Tuesday 10 November 2026, noon in Denver (the fixture practice's zone).
    app.clock.set(Utc.with_ymd_and_hms(2026, 11, 10, 19, 0, 0).unwrap());
    let fixture = app.practice("maple-vets").await;
    let tech = app.staff(&fixture.practice, "tech", SecurityLevel::Staff).await;
    let admin = app.login("maple-vets", "admin").await;
    for (period, points) in [("week", 10), ("month", 40)] {
        let response = app
            .client
            .put(app.url(&format!("/api/dashboard/v1/users/{tech}/goals/{period}")))
            .bearer_auth(&admin)
            .json(&json!({ "points": points }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let scope = Scope { practice_id: fixture.practice.id };
    let award = |points: i32| {
        let platform = app.platform.clone();
        async move {
            award_plan_points(&platform.db, &platform, scope, tech, (points, None), "enrolled Bella in Puppy Plan")
                .await
                .unwrap()
        }
    };

    award(8).await;
    let (_, rows) = app.get_json("/api/dashboard/v1/performance", &admin).await;
    assert_eq!(standing(&rows, "tech", "week"), (8, Some(10), Some("yellow".into())));
    assert_eq!(standing(&rows, "tech", "month"), (8, Some(40), Some("red".into())));
    assert_eq!(standing(&rows, "tech", "year"), (8, None, None));
    assert_eq!(standing(&rows, "admin", "week"), (0, None, None));

    award(2).await;
    let (_, rows) = app.get_json("/api/dashboard/v1/performance", &admin).await;
    assert_eq!(standing(&rows, "tech", "week"), (10, Some(10), Some("green".into())));

    // A week later: a new week, the same month.
    app.clock.advance(Duration::days(7));
    let admin = app.login("maple-vets", "admin").await;
    let (_, rows) = app.get_json("/api/dashboard/v1/performance", &admin).await;
    assert_eq!(standing(&rows, "tech", "week"), (0, Some(10), Some("red".into())));
    assert_eq!(standing(&rows, "tech", "month").0, 10);

    let response = app
        .client
        .put(app.url(&format!("/api/dashboard/v1/users/{tech}/goals/fortnight")))
        .bearer_auth(&admin)
        .json(&json!({ "points": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "an unknown period");
    let response = app
        .client
        .put(app.url(&format!("/api/dashboard/v1/users/{tech}/goals/week")))
        .bearer_auth(&admin)
        .json(&json!({ "points": -1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "invalid_goal");
}
