//! Wellness-plan templates: versions, checks, tenancy and the page.

use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{TestApp, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

pub(crate) fn puppy() -> Value {
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

pub(crate) async fn create(app: &TestApp, token: &str, draft: Value) -> Value {
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

/// A practice with the puppy template and a household with a puppy
/// (`Bella`, 4 months on the test clock's day) and a cat (`Tom`).
pub(crate) struct Household {
    pub(crate) client: String,
    pub(crate) puppy: String,
    pub(crate) cat: String,
    pub(crate) template: String,
}

pub(crate) async fn household(app: &TestApp, fixture: &petbridge_tests::PracticeFixture, admin: &str) -> Household {
    let now = app.clock_now();
    let born = (now - chrono::Duration::days(125)).date_naive();
    let key = app.sync_key(&fixture.practice).await;
    let batch = json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "last_transaction_on": now.date_naive() }],
        "pets": [
            { "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Bella", "species": "Canine", "date_of_birth": born },
            { "pms_id": "P2", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Tom", "species": "Cat", "date_of_birth": born }
        ]
    });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", admin).await;
    let row = &listed["items"][0];
    let pet = |name: &str| {
        row["pets"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    };
    Household {
        client: row["id"].as_str().unwrap().to_owned(),
        puppy: pet("Bella"),
        cat: pet("Tom"),
        template: create(app, admin, puppy()).await["id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn gated_enrolment_options_need_a_manager_logged_in_or_approving_in_place() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let staff = app.login("maple-vets", "frontdesk").await;
    let path = format!("/api/dashboard/v1/clients/{}/plans", home.client);
    let enrol = |token: String, body: Value, approver: Option<&'static str>| {
        let mut request = app.client.post(app.url(&path)).bearer_auth(token).json(&body);
        if let Some(approver) = approver {
            request = request
                .header("x-override-username", approver)
                .header("x-override-password", petbridge_tests::PASSWORD);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let plain = json!({ "pet_id": home.puppy, "template_id": home.template });
    let (status, refused) = enrol(staff.clone(), plain, None).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("payment_method_required")));
    for gated in ["skip_payment_method", "waive_initial_fee", "skip_initial_charge"] {
        let mut body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true });
        body[gated] = json!(true);
        let (status, refused) = enrol(staff.clone(), body, None).await;
        assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "{gated} alone");
    }
    let paid_in_full = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "billing": "paid_in_full" });
    let (status, refused) = enrol(staff.clone(), paid_in_full.clone(), None).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "paid in full alone");
    let (_, none) = app.get_json(&path, &admin).await;
    assert_eq!(none, json!([]), "a refused enrolment writes nothing");

    let (status, plan) = enrol(staff.clone(), paid_in_full, Some("manager")).await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!((plan["enrolled_by"].as_str(), plan["approved_by"].as_str()), (Some("frontdesk"), Some("manager")));
    assert_eq!(plan["payments"].as_array().unwrap().len(), 1);
    assert_eq!(plan["payments"][0]["amount_cents"], 4_900 + 44_900, "the fee and the paid-in-full price");
    assert_eq!((plan["status"].as_str(), plan["billing"].as_str()), (Some("active"), Some("paid_in_full")));
    assert_eq!(
        plan["items"][0],
        json!({ "item_id": plan["items"][0]["item_id"], "description": "Wellness exam", "code": "WP100", "allowed": 3, "used": 0, "remaining": 3, "add_on": false })
    );

    let (_, activity) = app.get_json("/api/dashboard/v1/activity?action=plan.enrol", &admin).await;
    let entry = &activity["items"][0];
    assert_eq!((entry["actor"].as_str(), entry["approver"].as_str()), (Some("frontdesk"), Some("manager")), "{entry}");
}

#[tokio::test]
async fn a_monthly_plan_schedules_the_fee_with_the_first_instalment_and_one_a_month() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let manager = app.login("maple-vets", "manager").await;
    let today = crate::payments::today(&app);
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "skip_initial_charge": true });
    let (status, plan) = app.staff_post(&manager, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{plan}");
    let payments = plan["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 12);
    assert_eq!(
        (payments[0]["amount_cents"].as_i64(), payments[0]["status"].as_str()),
        (Some(4_900 + 3_999), Some("paid_external"))
    );
    assert!(payments[1..].iter().all(|p| p["amount_cents"] == 3_999 && p["status"] == "scheduled"));
    assert_eq!(payments[1]["due_on"], json!(today.checked_add_months(chrono::Months::new(1)).unwrap()));
    assert_eq!(plan["next_payment"], 2);

    let (status, twice) = app
        .staff_post(
            &manager,
            &format!("/clients/{}/plans", home.client),
            Some(json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true })),
        )
        .await;
    assert_eq!((status, twice["code"].as_str()), (409, Some("plan_in_progress")));
    let (status, cat) = app
        .staff_post(
            &manager,
            &format!("/clients/{}/plans", home.client),
            Some(json!({ "pet_id": home.cat, "template_id": home.template, "skip_payment_method": true })),
        )
        .await;
    assert_eq!((status, cat["code"].as_str()), (422, Some("plan_does_not_fit")), "{cat}");
    let later = today + chrono::Days::new(120);
    let (status, far) = app
        .staff_post(&manager, &format!("/clients/{}/plans", home.client), Some(json!({ "pet_id": home.cat, "template_id": home.template, "skip_payment_method": true, "starts_on": later })))
        .await;
    assert_eq!((status, far["code"].as_str()), (422, Some("invalid_start_date")));

    let (status, quote) = app
        .staff_post(
            &manager,
            &format!("/plan-templates/{}/quote", home.template),
            Some(json!({ "billing": "monthly" })),
        )
        .await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(
        (quote["initial_charge_cents"].as_i64(), quote["total_cents"].as_i64()),
        (Some(4_900 + 3_999), Some(4_900 + 12 * 3_999))
    );

    let id = plan["id"].as_str().unwrap();
    let (status, read) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &manager).await;
    assert_eq!((status, read["pet_name"].as_str()), (200, Some("Bella")));
    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &oak).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/clients/{}/plans", home.client), &oak).await.0, 404);
    let (status, _) = app
        .staff_post(
            &oak,
            &format!("/clients/{}/plans", home.client),
            Some(json!({ "pet_id": home.cat, "template_id": home.template, "skip_payment_method": true })),
        )
        .await;
    assert_eq!(status, 404, "enrolling another practice's client");

    let session = app.page_login("maple-vets", "manager").await;
    let (status, html) = app.page(&session, &format!("/dashboard/clients/{}", home.client)).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"plans\"") && html.contains("Puppy Plan"), "the plan shows on the client page");
    assert!(html.contains("$88.99") && html.contains("paid_external"), "with its schedule");
}

#[tokio::test]
async fn the_app_shows_the_households_plans_and_nothing_of_another() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true });
    let (status, _) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201);

    let stranger = app.verified_owner("maple-vets", "stranger@example.com").await;
    let (status, none) = app.app_call(Method::GET, "/plans", Some(&stranger), None).await;
    assert_eq!((status, none), (200, json!([])), "another household sees none of it");

    // Ann signs up in the app; the PMS then sends her address, and her app
    // account joins her PMS household.
    let owner = app.verified_owner("maple-vets", "ann@example.com").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let email = json!({ "clients": [{ "pms_id": "C1", "updated_at": (now + chrono::Duration::minutes(1)).to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "email": "ann@example.com", "last_transaction_on": now.date_naive() }] });
    assert_eq!(app.sync(&key, &email).await.0, 200);
    let (status, plans) = app.app_call(Method::GET, "/plans", Some(&owner), None).await;
    assert_eq!(status, 200, "{plans}");
    let plan = &plans[0];
    assert_eq!((plan["pet_name"].as_str(), plan["name"].as_str()), (Some("Bella"), Some("Puppy Plan")));
    assert_eq!(plan["items"][0]["remaining"], 3);
    assert_eq!(plan["next_payment"]["amount_cents"], 4_900 + 3_999);
}

#[tokio::test]
async fn add_on_items_are_chosen_at_enrolment_priced_into_each_instalment_and_earn_their_points() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let mut with_dental = puppy();
    with_dental["items"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "description": "Dental cleaning", "code": "WP300", "quantity": 1, "retail_price_cents": 25_000, "add_on_monthly_cents": 1_250 }));
    let (status, revised) =
        app.staff_call(&admin, Method::PUT, format!("/plan-templates/{}", home.template), Some(with_dental)).await;
    assert_eq!(status, 200, "{revised}");
    let dental = revised["items"][3]["id"].as_str().unwrap().to_owned();
    assert_eq!(revised["items"][3]["add_on_monthly_cents"], 1_250);
    let exam = revised["items"][0]["id"].as_str().unwrap().to_owned();

    let quote = |add_ons: Value| {
        let path = format!("/plan-templates/{}/quote", home.template);
        let admin = admin.clone();
        let app = &app;
        async move { app.staff_post(&admin, &path, Some(json!({ "add_on_item_ids": add_ons }))).await }
    };
    let (_, plain) = quote(json!([])).await;
    let (_, priced) = quote(json!([dental])).await;
    assert_eq!(priced["schedule"][1]["amount_cents"].as_i64(), Some(3_999 + 1_250), "the add-on reprices the quote");
    assert_eq!(priced["total_cents"].as_i64().unwrap() - plain["total_cents"].as_i64().unwrap(), 12 * 1_250);
    let (status, refused) = quote(json!([exam])).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("unknown_add_on")), "a covered item is not an add-on");

    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "add_on_item_ids": [dental] });
    let (status, plan) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!(plan["payments"][0]["amount_cents"], 4_900 + 3_999 + 1_250);
    assert_eq!(plan["payments"][11]["amount_cents"], 3_999 + 1_250);
    let items: Vec<(&str, bool)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["add_on"].as_bool().unwrap()))
        .collect();
    assert_eq!(items, [("WP100", false), ("WP110", false), ("WP190", false), ("WP300", true)]);
    let (_, rows) = app.get_json("/api/dashboard/v1/performance", &admin).await;
    let me = rows.as_array().unwrap().iter().find(|r| r["username"] == "admin").unwrap();
    assert_eq!(me["periods"][0]["earned"], 10 + 2, "the enrolment's points and the add-on's");

    // Without the add-on, another enrolment covers only the template's own items.
    let cat = json!({ "pet_id": home.cat, "template_id": home.template, "skip_payment_method": true });
    let (status, _) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(cat)).await;
    assert_eq!(status, 422, "the cat does not fit the puppy plan either way");
    let session = app.page_login("maple-vets", "admin").await;
    let (_, page) = app.page(&session, &format!("/dashboard/clients/{}", home.client)).await;
    assert!(page.contains("Add Dental cleaning to Puppy Plan (+$12.50 a month)"), "the enrol form offers the add-on");
}
