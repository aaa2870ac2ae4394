//! Renewals on the test clock: prepared the practice's number of days
//! before the end into the template a plan renews into, the owner told,
//! the old plan completed and the renewal started on their days; blocked by
//! a safeguard; renewed, configured and started early by a manager.

use chrono::{Days, Duration, NaiveDate, TimeZone, Utc};
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{PracticeFixture, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::plans::{Household, household, puppy};

/// The practice's day now (the fixture practice is in Denver).
fn today(app: &TestApp) -> NaiveDate {
    app.clock_now().with_timezone(&chrono_tz::America::Denver).date_naive()
}

/// Moves the clock to noon in Denver on `day`.
fn go_to(app: &TestApp, day: NaiveDate) {
    let noon = chrono_tz::America::Denver.from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap()).unwrap();
    app.clock.set(noon.with_timezone(&Utc));
}

fn day(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

/// An adult dog plan, and the household's puppy plan revised to renew into it.
async fn adult_and_puppy(app: &TestApp, admin: &str, home: &Household) -> String {
    let mut adult = puppy();
    adult["code"] = json!("adult");
    adult["name"] = json!("Adult Dog Plan");
    adult["min_age_months"] = json!(12);
    adult["max_age_months"] = json!(null);
    adult["monthly_price_cents"] = json!(4_599);
    let (status, adult) = app.staff_post(admin, "/plan-templates", Some(adult)).await;
    assert_eq!(status, 201, "{adult}");
    let adult = adult["id"].as_str().unwrap().to_owned();
    let mut renewing = puppy();
    renewing["renews_into_id"] = json!(adult);
    let (status, revised) =
        app.staff_call(admin, Method::PUT, format!("/plan-templates/{}", home.template), Some(renewing)).await;
    assert_eq!(status, 200, "{revised}");
    adult
}

/// On 5 January 2026: the practice, its administrator, the household and
/// the adult dog plan its puppy plan renews into.
struct Renewing {
    fixture: PracticeFixture,
    admin: String,
    home: Household,
    adult: String,
}

async fn renewing(app: &TestApp) -> Renewing {
    go_to(app, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(app, &fixture, &admin).await;
    let adult = adult_and_puppy(app, &admin, &home).await;
    Renewing { fixture, admin, home, adult }
}

/// The PMS sends Ann's email address (so she can be told, and sign in to the app).
pub(crate) async fn give_ann_her_email(app: &TestApp, fixture: &PracticeFixture) {
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let email = json!({ "clients": [{ "pms_id": "C1", "updated_at": (now + Duration::minutes(1)).to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "email": "ann@example.com", "last_transaction_on": now.date_naive() }] });
    assert_eq!(app.sync(&key, &email).await.0, 200);
}

async fn plan(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, plan) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), token).await;
    assert_eq!(status, 200, "{plan}");
    plan
}

#[tokio::test]
async fn a_renewal_is_prepared_sixty_days_before_the_end_the_owner_told_and_it_starts_the_day_after() {
    let app = petbridge_tests::spawn_app().await;
    let Renewing { fixture, admin, home, .. } = renewing(&app).await;
    give_ann_her_email(&app, &fixture).await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "skip_initial_charge": true });
    let (status, old) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{old}");
    let old_id = old["id"].as_str().unwrap().to_owned();
    let ends = day(&old["ends_on"]);
    assert_eq!(app.run_jobs().await.renewals.prepared, 0);

    go_to(&app, ends - Days::new(61));
    assert_eq!(app.run_jobs().await.renewals.prepared, 0, "61 days before the end is too early");
    go_to(&app, ends - Days::new(60));
    let run = app.run_jobs().await.renewals;
    assert_eq!(run.prepared, 1);
    assert_eq!(app.run_jobs().await.renewals.prepared, 0, "a plan renews once");
    let admin = app.login("maple-vets", "admin").await;
    let (_, plans) = app.get_json(&format!("/api/dashboard/v1/clients/{}/plans", home.client), &admin).await;
    let renewal = plans.as_array().unwrap().iter().find(|p| p["renews_plan_id"] == old_id.as_str()).unwrap().clone();
    let renewal_id = renewal["id"].as_str().unwrap().to_owned();
    assert_eq!((renewal["name"].as_str(), renewal["status"].as_str()), (Some("Adult Dog Plan"), Some("pending")));
    assert_eq!(day(&renewal["starts_on"]), ends + Days::new(1), "the day after the term");
    assert_eq!(renewal["initial_fee_cents"], 0, "no enrolment fee on renewal");
    let payments = renewal["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 12);
    assert!(payments.iter().all(|p| p["amount_cents"] == 4_599 && p["status"] == "scheduled"));
    let old_now = plan(&app, &admin, &old_id).await;
    assert!(old_now["history"].as_array().unwrap().iter().any(|e| e["action"] == "plan.renewal_prepared"));

    // Thirty days before it renews, the owner of a year-long plan is told, once.
    go_to(&app, ends - Days::new(30));
    assert_eq!(app.run_jobs().await.renewals.noticed, 0, "31 days before its first day is early");
    go_to(&app, ends - Days::new(29));
    assert_eq!(app.run_jobs().await.renewals.noticed, 1);
    assert_eq!(app.run_jobs().await.renewals.noticed, 0);
    let told = app.mailbox("ann@example.com").await;
    let notice = told.iter().find(|m| m["data"]["template"] == "plan_renewal").expect("a renewal notice");
    let text = notice["body"].as_str().unwrap();
    assert!(text.contains("Bella") && text.contains(&(ends + Days::new(1)).to_string()), "{text}");
    assert!(
        text.contains("$45.99 a month for 12 months ($551.88 in all)") && text.contains("will not renew"),
        "{text}"
    );

    // On the term's last day nothing moves; the day after, the old plan is
    // completed and the renewal starts.
    go_to(&app, ends);
    let run = app.run_jobs().await.renewals;
    assert_eq!((run.completed, run.activated), (0, 0));
    go_to(&app, ends + Days::new(1));
    let run = app.run_jobs().await.renewals;
    assert_eq!((run.completed, run.activated), (1, 1));
    let admin = app.login("maple-vets", "admin").await;
    assert_eq!(plan(&app, &admin, &old_id).await["status"], "completed");
    let started = plan(&app, &admin, &renewal_id).await;
    assert_eq!(started["status"], "active");
    let actions: Vec<&str> =
        started["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["plan.renew", "plan.renewal_notice", "plan.activate"]);
}

#[tokio::test]
async fn safeguards_block_an_automatic_renewal_and_a_manager_renews_configures_and_starts_it_by_hand() {
    let app = petbridge_tests::spawn_app().await;
    let Renewing { fixture, home, adult, .. } = renewing(&app).await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let manager = app.login("maple-vets", "manager").await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "skip_initial_charge": true });
    let (_, old) = app.staff_post(&manager, &format!("/clients/{}/plans", home.client), Some(body)).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let ends = day(&old["ends_on"]);

    // A declined charge (the payments work records these) leaves a balance due.
    {
        use petbridge_domain::db::entities::plan_payment;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        plan_payment::Entity::update_many()
            .col_expr(plan_payment::Column::Status, Expr::value(plan_payment::PaymentStatus::Failed))
            .filter(plan_payment::Column::PlanId.eq(uuid::Uuid::parse_str(&old_id).unwrap()))
            .filter(plan_payment::Column::Number.eq(2))
            .exec(&app.platform.db)
            .await
            .unwrap();
    }
    go_to(&app, ends - Days::new(60));
    let run = app.run_jobs().await.renewals;
    assert_eq!((run.prepared, run.blocked), (0, 1));
    assert_eq!(app.run_jobs().await.renewals.blocked, 0, "blocked once, not every run");
    let manager = app.login("maple-vets", "manager").await;
    let blocked = plan(&app, &manager, &old_id).await;
    assert!(blocked["renewal_blocked"].as_str().unwrap().contains("balance of 3999 cents"), "{blocked}");
    let session = app.page_login("maple-vets", "manager").await;
    let (_, page) = app.page(&session, &format!("/dashboard/clients/{}", home.client)).await;
    assert!(page.contains("data-testid=\"renewal-blocked\""), "the client page says so");

    // Staff cannot renew; a manager can, the safeguard notwithstanding.
    let staff = app.login("maple-vets", "frontdesk").await;
    let renew = json!({ "template_id": adult });
    assert_eq!(app.staff_post(&staff, &format!("/plans/{old_id}/renew"), Some(renew.clone())).await.0, 403);
    let (status, renewal) = app.staff_post(&manager, &format!("/plans/{old_id}/renew"), Some(renew.clone())).await;
    assert_eq!(status, 201, "{renewal}");
    assert_eq!(
        app.staff_post(&manager, &format!("/plans/{old_id}/renew"), Some(renew)).await.1["code"],
        "renewal_exists"
    );
    let renewal_id = renewal["id"].as_str().unwrap().to_owned();

    // Billing changes at renewal only; paid in full is charged at once.
    let path = format!("/plans/{renewal_id}/renewal");
    let (status, refused) = app
        .staff_call(
            &manager,
            Method::PATCH,
            format!("/plans/{old_id}/renewal"),
            Some(json!({ "billing": "paid_in_full" })),
        )
        .await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("not_a_renewal")), "a running plan's billing stays");
    let (status, in_full) =
        app.staff_call(&manager, Method::PATCH, path, Some(json!({ "billing": "paid_in_full" }))).await;
    assert_eq!(status, 200, "{in_full}");
    let payments = in_full["payments"].as_array().unwrap();
    assert_eq!((payments.len(), payments[0]["amount_cents"].as_i64()), (1, Some(44_900)));
    assert_eq!(day(&payments[0]["due_on"]), today(&app), "a paid-in-full renewal is charged at once");
    let issued: Vec<&str> =
        in_full["agreements"].as_array().unwrap().iter().map(|a| a["occasion"].as_str().unwrap()).collect();
    assert_eq!(issued, ["renewal", "change"], "the owner is issued the terms they will now pay");

    // Started early, it completes the plan it renews.
    assert_eq!(app.staff_post(&staff, &format!("/plans/{renewal_id}/activate"), None).await.0, 403);
    let (status, started) = app.staff_post(&manager, &format!("/plans/{renewal_id}/activate"), None).await;
    assert_eq!(status, 200, "{started}");
    assert_eq!((started["status"].as_str(), day(&started["starts_on"])), (Some("active"), today(&app)));
    assert_eq!(plan(&app, &manager, &old_id).await["status"], "completed");
    assert_eq!(app.staff_post(&manager, &format!("/plans/{renewal_id}/activate"), None).await.1["code"], "not_pending");

    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.staff_post(&oak, &format!("/plans/{renewal_id}/renew"), Some(json!({}))).await.0, 404);
    assert_eq!(
        app.staff_call(
            &oak,
            Method::PATCH,
            format!("/plans/{renewal_id}/renewal"),
            Some(json!({ "renewal": "manual" }))
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn a_plan_whose_renewal_is_no_longer_sold_is_blocked_until_a_manager_sets_it_again() {
    let app = petbridge_tests::spawn_app().await;
    let Renewing { admin, home, adult, .. } = renewing(&app).await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true });
    let (_, old) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .staff_call(&admin, Method::PATCH, format!("/plan-templates/{adult}"), Some(json!({ "retired": true })))
        .await;
    assert_eq!(status, 200);
    go_to(&app, day(&old["ends_on"]) - Days::new(10));
    assert_eq!(app.run_jobs().await.renewals.blocked, 1);
    let admin = app.login("maple-vets", "admin").await;
    assert!(plan(&app, &admin, &old_id).await["renewal_blocked"].as_str().unwrap().contains("no longer sold"));

    // Sold again and set to renew again, the next run prepares it.
    app.staff_call(&admin, Method::PATCH, format!("/plan-templates/{adult}"), Some(json!({ "retired": false }))).await;
    let (status, set) = app
        .staff_call(&admin, Method::PATCH, format!("/plans/{old_id}/renewal"), Some(json!({ "renewal": "auto" })))
        .await;
    assert_eq!((status, set["renewal_blocked"].clone()), (200, Value::Null));
    assert_eq!(app.run_jobs().await.renewals.prepared, 1);
}

#[tokio::test]
async fn an_owner_stops_a_renewal_in_the_app_and_another_household_cannot() {
    let app = petbridge_tests::spawn_app().await;
    let Renewing { fixture, admin, home, .. } = renewing(&app).await;
    let body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true });
    let (_, old) = app.staff_post(&admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let (status, renewal) = app.staff_post(&admin, &format!("/plans/{old_id}/renew"), Some(json!({}))).await;
    assert_eq!(status, 201, "{renewal}");
    let renewal_id = renewal["id"].as_str().unwrap().to_owned();

    let owner = app.verified_owner("maple-vets", "ann@example.com").await;
    give_ann_her_email(&app, &fixture).await;
    let stranger = app.verified_owner("maple-vets", "stranger@example.com").await;
    let path = format!("/plans/{renewal_id}/stop-renewal");
    assert_eq!(app.app_call(Method::POST, &path, Some(&stranger), None).await.0, 404, "another household's plan");

    let (_, listed) = app.app_call(Method::GET, "/plans", Some(&owner), None).await;
    let shown = listed.as_array().unwrap().iter().find(|p| p["id"] == renewal_id.as_str()).unwrap();
    assert_eq!((shown["renews_plan_id"].as_str(), shown["status"].as_str()), (Some(old_id.as_str()), Some("pending")));
    let (status, stopped) = app.app_call(Method::POST, &path, Some(&owner), None).await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!((stopped["id"].as_str(), stopped["renewal"].as_str()), (Some(old_id.as_str()), Some("do_not_renew")));
    let declined = plan(&app, &admin, &renewal_id).await;
    assert_eq!(declined["status"], "cancelled");
    assert!(declined["payments"].as_array().unwrap().iter().all(|p| p["status"] == "cancelled"));
    let history = plan(&app, &admin, &old_id).await["history"].clone();
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("plan.renewal_stopped"), Some("the owner, in the app"))
    );
    // And the job does not prepare another; should the owner change their
    // mind, the practice renews by hand.
    go_to(&app, day(&old["ends_on"]) - Days::new(30));
    assert_eq!(app.run_jobs().await.renewals.prepared, 0);
    let admin = app.login("maple-vets", "admin").await;
    assert_eq!(app.staff_post(&admin, &format!("/plans/{old_id}/renew"), Some(json!({}))).await.0, 201);
}
