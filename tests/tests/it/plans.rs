//! Wellness-plan templates: versions, checks, tenancy and the page.

use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn puppy() -> Value {
    json!({
        "code": "puppy", "name": "Puppy Plan", "species": "Dog", "min_age_months": 0, "max_age_months": 12,
        "monthly_price_cents": 3_999, "paid_in_full_price_cents": 44_900, "initial_fee_cents": 4_900,
        "non_plan_discount_percent": 10, "agreement_text": "This plan is not insurance.",
        "items": [
            { "description": "Wellness exam", "code": "WP100", "quantity": 3, "retail_price_cents": 6_500 },
            { "description": "DA2PP vaccine", "code": "wp110", "alternate_codes": ["WP110B"], "quantity": 3, "retail_price_cents": 3_800 },
            { "description": "Nail trim", "code": "WP190", "retail_price_cents": 1_800 }
        ]
    })
}

async fn create(app: &TestApp, token: &str, draft: Value) -> Value {
    let (status, made) = app.staff_post(token, "/plan-templates", Some(draft)).await;
    assert_eq!(status, 201, "{made}");
    made
}

#[tokio::test]
async fn a_saved_template_is_a_new_version_and_the_old_one_stays_as_sold() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let made = create(&app, &admin, puppy()).await;
    assert_eq!(
        (made["code"].as_str(), made["version"].as_i64(), made["species"].as_str()),
        (Some("PUPPY"), Some(1), Some("dog"))
    );
    assert_eq!(made["items"][1]["code"], "WP110");
    assert_eq!(made["items"][2]["quantity"], Value::Null, "no quantity is unlimited");
    let id = made["id"].as_str().unwrap();

    let mut next = puppy();
    next["monthly_price_cents"] = json!(4_299);
    next["items"].as_array_mut().unwrap().pop();
    let (status, revised) = app.staff_call(&admin, Method::PUT, format!("/plan-templates/{id}"), Some(next)).await;
    assert_eq!(status, 200, "{revised}");
    assert_eq!((revised["version"].as_i64(), revised["monthly_price_cents"].as_i64()), (Some(2), Some(4_299)));
    assert_eq!(revised["items"].as_array().unwrap().len(), 2);

    let (status, versions) = app.get_json(&format!("/api/dashboard/v1/plan-templates/{id}/versions"), &admin).await;
    assert_eq!(status, 200);
    let listed: Vec<(i64, i64)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["monthly_price_cents"].as_i64().unwrap()))
        .collect();
    assert_eq!(listed, [(2, 4_299), (1, 3_999)]);
    let scope = petbridge_domain::Scope { practice_id: fixture.practice.id };
    let sold = petbridge_domain::plans::templates::at(&app.platform, scope, id.parse().unwrap(), 1).await.unwrap();
    assert_eq!((sold.version.monthly_price_cents, sold.items.len()), (3_999, 3), "version 1 is as it was sold");

    let (status, activity) = app.get_json("/api/dashboard/v1/activity?action=plan_template.", &admin).await;
    assert_eq!(status, 200);
    let mut actions: Vec<&str> =
        activity["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    // Both at the test clock's one instant: their order on the log is not the point.
    actions.sort_unstable();
    assert_eq!(actions, ["plan_template.create", "plan_template.revise"]);
}

#[tokio::test]
async fn a_broken_template_is_refused_with_its_code_and_nothing_is_written() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut draft = puppy();
        change(&mut draft);
        draft
    };
    let cases: Vec<(Value, &str)> = vec![
        (with(&|d| d["items"][0]["code"] = json!("DA2PP")), "invalid_item_code"),
        (with(&|d| d["items"][1]["alternate_codes"] = json!(["WP100"])), "duplicate_item_code"),
        (with(&|d| d["min_age_months"] = json!(24)), "invalid_age_band"),
        (with(&|d| d["code"] = json!("two words")), "invalid_plan_code"),
        (with(&|d| d["items"] = json!([])), "invalid_items"),
    ];
    for (draft, code) in cases {
        let (status, refused) = app.staff_post(&admin, "/plan-templates", Some(draft)).await;
        assert_eq!((status, refused["code"].as_str()), (422, Some(code)), "{refused}");
    }
    let (status, over) = app.staff_post(&admin, "/plan-templates", Some(with(&|d| d["term_months"] = json!(61)))).await;
    assert!(matches!(status, 400 | 422), "a term past the stated maximum: {status} {over}");
    let (_, listed) = app.get_json("/api/dashboard/v1/plan-templates?retired=true", &admin).await;
    assert_eq!(listed, json!([]), "nothing half-written");

    create(&app, &admin, puppy()).await;
    let (status, clash) = app.staff_post(&admin, "/plan-templates", Some(puppy())).await;
    assert_eq!((status, clash["code"].as_str()), (409, Some("plan_code_taken")));
}

#[tokio::test]
async fn another_practices_template_is_not_found_anywhere() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let maple = app.login("maple-vets", "admin").await;
    let oak = app.login("oak-vets", "admin").await;
    let id = create(&app, &maple, puppy()).await["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (Method::GET, format!("/plan-templates/{id}"), None),
        (Method::GET, format!("/plan-templates/{id}/versions"), None),
        (Method::PUT, format!("/plan-templates/{id}"), Some(puppy())),
        (Method::PATCH, format!("/plan-templates/{id}"), Some(json!({ "retired": true }))),
    ] {
        let (status, _) = app.staff_call(&oak, method.clone(), path.clone(), body).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    let mut renewing = puppy();
    renewing["code"] = json!("ADULT");
    renewing["renews_into_id"] = json!(id);
    let (status, _) = app.staff_post(&oak, "/plan-templates", Some(renewing)).await;
    assert_eq!(status, 404, "renewing into another practice's template");
    let (_, listed) = app.get_json("/api/dashboard/v1/plan-templates?retired=true", &oak).await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn the_wellness_plans_page_lists_templates_and_retiring_one_keeps_it_listed() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    let admin = app.login("maple-vets", "admin").await;
    let id = create(&app, &admin, puppy()).await["id"].as_str().unwrap().to_owned();
    let (status, retired) =
        app.staff_call(&admin, Method::PATCH, format!("/plan-templates/{id}"), Some(json!({ "retired": true }))).await;
    assert_eq!((status, retired["retired_at"].is_string()), (200, true));
    let (_, sold) = app.get_json("/api/dashboard/v1/plan-templates", &admin).await;
    assert_eq!(sold, json!([]), "a retired template is not sold");

    let session = app.page_login("maple-vets", "frontdesk").await;
    let (status, html) = app.page(&session, "/dashboard/plans").await;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/dashboard/plans\" aria-current=\"page\""), "the menu item is live");
    assert!(html.contains("Puppy Plan") && html.contains("dog, 0–12 months") && html.contains("$39.99"), "{html}");
    assert!(html.contains("<span class=\"badge\">retired</span>"));
    assert!(html.contains("needs an administrator's approval"), "staff are told who may change templates");
    let (status, refused) = app
        .staff_call(&app.login("maple-vets", "frontdesk").await, Method::POST, "/plan-templates", Some(puppy()))
        .await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")));
}
