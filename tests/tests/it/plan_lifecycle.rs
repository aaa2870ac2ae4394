//! What managers do to a plan after enrolment: hold and release (each
//! choice for the missed payments), change (the difference spread to the
//! cent), cancel (each policy, every other unpaid payment cancelled), notes,
//! the plan's history, and a deceased pet's plan held by the sync.

use chrono::{Duration, NaiveDate};
use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::plans::{Household, create, household, puppy};

/// Enrols Bella monthly, the initial charge taken at the desk (so it is collected).
async fn enrol(app: &TestApp, manager: &str, home: &Household, extra: Value) -> Value {
    let mut body = json!({ "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "skip_initial_charge": true });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, plan) = app.staff_post(manager, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{plan}");
    plan
}

/// The household of [`household`], with a signed-in administrator, manager
/// (`manager`) and staff member (`frontdesk`) of its practice.
struct Team {
    home: Household,
    admin: String,
    manager: String,
    staff: String,
}

async fn team(app: &TestApp) -> Team {
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(app, &fixture, &admin).await;
    let manager = app.login("maple-vets", "manager").await;
    let staff = app.login("maple-vets", "frontdesk").await;
    Team { home, admin, manager, staff }
}

fn payments(plan: &Value) -> &Vec<Value> {
    plan["payments"].as_array().unwrap()
}

fn payment(plan: &Value, number: i64) -> &Value {
    payments(plan).iter().find(|p| p["number"] == number).unwrap()
}

fn day(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

/// Collected (less refunds) plus still owed: what the owner pays in all.
fn paid_and_owed(plan: &Value) -> i64 {
    payments(plan)
        .iter()
        .map(|p| {
            let amount = p["amount_cents"].as_i64().unwrap();
            match p["status"].as_str().unwrap() {
                "scheduled" | "failed" | "past_due" | "paid" | "paid_external" => amount,
                "refunded" | "partially_refunded" => amount - p["refunded_cents"].as_i64().unwrap(),
                _ => 0,
            }
        })
        .sum()
}

fn actions(plan: &Value) -> Vec<&str> {
    plan["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_manager_holds_a_plan_and_each_release_choice_does_what_it_says_with_the_missed_payments() {
    let app = petbridge_tests::spawn_app().await;
    let Team { home, manager, staff, .. } = team(&app).await;
    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap();
    let owed = 4_900 + 12 * 3_999;
    assert_eq!(paid_and_owed(&plan), owed);

    let api = &app;
    let hold = |token: String, body: Value| async move {
        api.staff_post(&token, &format!("/plans/{id}/hold"), Some(body)).await
    };
    let release = |token: String, missed: &'static str| async move {
        api.staff_post(&token, &format!("/plans/{id}/release"), Some(json!({ "missed": missed }))).await
    };
    let (status, refused) = hold(staff.clone(), json!({ "reason": "financial" })).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "a hold needs a manager");
    let (status, refused) = hold(manager.clone(), json!({ "reason": "other" })).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("reason_required")), "other needs its note");
    let (status, held) = hold(manager.clone(), json!({ "reason": "financial", "note": "lost her job" })).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!((held["status"].as_str(), held["hold_reason"].as_str()), (Some("on_hold"), Some("financial")));
    assert_eq!(hold(manager.clone(), json!({ "reason": "financial" })).await.1["code"], "plan_on_hold");

    // Seventy days on, payments 2 and 3 fell due during the hold; moved past
    // the term, they are owed still, a month apart after its end.
    app.clock.advance(Duration::days(70));
    let manager = app.login("maple-vets", "manager").await;
    let (status, moved) = release(manager.clone(), "move_after_term").await;
    assert_eq!(status, 200, "{moved}");
    let ends = day(&moved["ends_on"]);
    let (second, third) = (day(&payment(&moved, 2)["due_on"]), day(&payment(&moved, 3)["due_on"]));
    assert!(second > ends && third > second, "{second} {third} after {ends}");
    assert_eq!(third, second.checked_add_months(chrono::Months::new(1)).unwrap());
    assert_eq!(payment(&moved, 4)["due_on"], plan["payments"][3]["due_on"], "payment 4 did not fall due: it stays");
    assert_eq!((moved["status"].as_str(), paid_and_owed(&moved)), (Some("active"), owed));
    assert_eq!(release(manager.clone(), "charge").await.1["code"], "plan_not_on_hold");

    // Held again over payment 4, cancelled on release: no longer owed.
    hold(manager.clone(), json!({ "reason": "expired_card" })).await;
    app.clock.advance(Duration::days(31));
    let manager = app.login("maple-vets", "manager").await;
    let (_, forgiven) = release(manager.clone(), "cancel").await;
    assert_eq!(payment(&forgiven, 4)["status"], "cancelled");
    assert_eq!(forgiven["forgiven_cents"], 3_999);
    assert_eq!(paid_and_owed(&forgiven), owed - 3_999);

    // Held over payment 5, charged on release: due today.
    hold(manager.clone(), json!({ "reason": "missing_documents" })).await;
    app.clock.advance(Duration::days(31));
    let manager = app.login("maple-vets", "manager").await;
    let (_, charged) = release(manager.clone(), "charge").await;
    let today = app.clock_now().with_timezone(&chrono_tz::America::Denver).date_naive();
    assert_eq!(
        (day(&payment(&charged, 5)["due_on"]), payment(&charged, 5)["status"].as_str()),
        (today, Some("scheduled"))
    );
    assert_eq!(paid_and_owed(&charged), owed - 3_999);

    assert_eq!(
        actions(&charged),
        ["plan.enrol", "plan.hold", "plan.release", "plan.hold", "plan.release", "plan.hold", "plan.release"]
    );
    let releases: Vec<&Value> =
        charged["history"].as_array().unwrap().iter().filter(|e| e["action"] == "plan.release").collect();
    assert_eq!(releases[0]["detail"]["payments"], json!([2, 3]));
    assert_eq!(releases[1]["detail"]["missed"], "cancel");

    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    let (status, _) = app.staff_post(&oak, &format!("/plans/{id}/hold"), Some(json!({ "reason": "financial" }))).await;
    assert_eq!(status, 404, "another practice's plan");
    let (status, _) = app.staff_post(&oak, &format!("/plans/{id}/release"), Some(json!({ "missed": "cancel" }))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_change_spreads_the_difference_over_the_payments_still_scheduled_to_the_cent() {
    let app = petbridge_tests::spawn_app().await;
    let Team { home, admin, manager, staff } = team(&app).await;
    let mut plus = puppy();
    plus["code"] = json!("puppy-plus");
    plus["name"] = json!("Puppy Plus");
    plus["monthly_price_cents"] = json!(4_999);
    plus["paid_in_full_price_cents"] = json!(54_900);
    let plus = create(&app, &admin, plus).await["id"].as_str().unwrap().to_owned();
    let mut two_years = puppy();
    two_years["code"] = json!("puppy-24");
    two_years["term_months"] = json!(24);
    let two_years = create(&app, &admin, two_years).await["id"].as_str().unwrap().to_owned();
    let mut lite = puppy();
    lite["code"] = json!("puppy-lite");
    lite["name"] = json!("Puppy Lite");
    lite["paid_in_full_price_cents"] = json!(30_000);
    let lite = create(&app, &admin, lite).await["id"].as_str().unwrap().to_owned();

    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap();
    let api = &app;
    let change = |token: String, template: String| async move {
        api.staff_post(&token, &format!("/plans/{id}/change"), Some(json!({ "template_id": template }))).await
    };
    assert_eq!(change(staff.clone(), plus.clone()).await.0, 403, "a change needs a manager");
    assert_eq!(change(manager.clone(), home.template.clone()).await.1["code"], "plan_unchanged");
    assert_eq!(change(manager.clone(), two_years).await.1["code"], "plan_term_differs");

    let (status, changed) = change(manager.clone(), plus.clone()).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["starts_on"].clone()),
        (Some("Puppy Plus"), plan["starts_on"].clone())
    );
    // 12 × $10.00 more over the 11 payments still scheduled: $10.90 each, the leftover 10 cents on the last.
    let amounts: Vec<i64> = payments(&changed).iter().map(|p| p["amount_cents"].as_i64().unwrap()).collect();
    assert_eq!(amounts[0], 4_900 + 3_999, "the collected initial charge stays");
    assert!(amounts[1..11].iter().all(|a| *a == 3_999 + 1_090), "{amounts:?}");
    assert_eq!(amounts[11], 3_999 + 1_100);
    assert_eq!(paid_and_owed(&changed), 4_900 + 12 * 4_999, "what the new terms say is owed");
    let entry = changed["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (entry["action"].as_str(), entry["detail"]["difference_cents"].as_i64()),
        (Some("plan.change"), Some(12_000))
    );
    assert_eq!(entry["detail"]["from"]["name"], "Puppy Plan");

    // Back down to the puppy plan: the same spread, the other way.
    let (_, back) = change(manager.clone(), home.template.clone()).await;
    assert_eq!(paid_and_owed(&back), 4_900 + 12 * 3_999);
    assert!(payments(&back)[1..].iter().all(|p| p["amount_cents"] == 3_999));

    // A plan paid in full takes one supplemental payment for a rise.
    let (status, _) = app
        .staff_post(
            &manager,
            &format!("/plans/{id}/cancel"),
            Some(json!({ "reason": "moving to paid in full", "refund": "keep" })),
        )
        .await;
    assert_eq!(status, 200);
    let in_full = enrol(&app, &manager, &home, json!({ "billing": "paid_in_full" })).await;
    let full_id = in_full["id"].as_str().unwrap();
    let (status, raised) =
        app.staff_post(&manager, &format!("/plans/{full_id}/change"), Some(json!({ "template_id": plus }))).await;
    assert_eq!(status, 200, "{raised}");
    let extra = payments(&raised).last().unwrap();
    assert_eq!(
        (extra["kind"].as_str(), extra["amount_cents"].as_i64(), extra["status"].as_str()),
        (Some("supplemental"), Some(10_000), Some("scheduled"))
    );
    // Back down: the supplemental payment absorbs the fall and, owing
    // nothing, is cancelled.
    let (_, lowered) = app
        .staff_post(&manager, &format!("/plans/{full_id}/change"), Some(json!({ "template_id": home.template })))
        .await;
    assert_eq!(payments(&lowered).last().unwrap()["status"], "cancelled");
    assert_eq!(paid_and_owed(&lowered), 4_900 + 44_900);
    // Lower still, with everything collected, would need a refund.
    let (status, refused) =
        app.staff_post(&manager, &format!("/plans/{full_id}/change"), Some(json!({ "template_id": lite }))).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("change_needs_refund")));
    let (_, unchanged) = app.get_json(&format!("/api/dashboard/v1/plans/{full_id}"), &manager).await;
    assert_eq!((unchanged["name"].as_str(), paid_and_owed(&unchanged)), (Some("Puppy Plan"), 4_900 + 44_900));
}

#[tokio::test]
async fn a_cancellation_owes_what_the_policy_says_and_cancels_every_other_unpaid_payment() {
    let app = petbridge_tests::spawn_app().await;
    let Team { home, admin, manager, staff } = team(&app).await;

    // The default policy: the fee and the items used, less what was paid.
    // Nothing is used yet, so the first instalment was paid beyond it.
    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let (status, preview) = app.get_json(&format!("/api/dashboard/v1/plans/{id}/cancellation"), &staff).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["policy"], "usage_less_paid");
    assert_eq!(
        (preview["collected_cents"].as_i64(), preview["unpaid_cents"].as_i64()),
        (Some(8_899), Some(11 * 3_999))
    );
    assert_eq!((preview["owed_cents"].as_i64(), preview["refund_due_cents"].as_i64()), (Some(0), Some(3_999)));
    assert!(
        preview["working"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("$39.99 to refund")),
        "{preview}"
    );

    let api = &app;
    let cancel = |token: String, body: Value| {
        let path = format!("/plans/{id}/cancel");
        async move { api.staff_post(&token, &path, Some(body)).await }
    };
    assert_eq!(cancel(staff.clone(), json!({ "reason": "moving away", "refund": "elsewhere" })).await.0, 403);
    assert_eq!(cancel(manager.clone(), json!({ "reason": "   " })).await.1["code"], "reason_required");
    assert_eq!(cancel(manager.clone(), json!({ "reason": "moving away" })).await.1["code"], "refund_choice_required");
    let (_, untouched) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &manager).await;
    assert_eq!(
        (untouched["status"].as_str(), paid_and_owed(&untouched)),
        (Some("active"), 4_900 + 12 * 3_999),
        "a refused cancellation writes nothing"
    );

    let (status, cancelled) = cancel(manager.clone(), json!({ "reason": "moving away", "refund": "elsewhere" })).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["cancel_reason"].as_str()),
        (Some("cancelled"), Some("moving away"))
    );
    assert!(
        payments(&cancelled)[1..].iter().all(|p| p["status"] == "cancelled"),
        "every other unpaid payment is cancelled"
    );
    let first = payment(&cancelled, 1);
    assert_eq!((first["status"].as_str(), first["refunded_cents"].as_i64()), (Some("partially_refunded"), Some(3_999)));
    assert_eq!(paid_and_owed(&cancelled), 4_900, "the fee, kept");
    assert_eq!(
        cancel(manager.clone(), json!({ "reason": "again", "refund": "keep" })).await.1["code"],
        "plan_cancelled"
    );
    let (status, refused) =
        app.staff_post(&manager, &format!("/plans/{id}/hold"), Some(json!({ "reason": "financial" }))).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("plan_cancelled")), "a cancelled plan is read-only");
    let entry = cancelled["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (entry["action"].as_str(), entry["detail"]["cancelled_payments"].as_array().unwrap().len()),
        (Some("plan.cancel"), 11)
    );

    // The remaining payments: one payment of them all, due today.
    let (status, settings) = app
        .staff_call(
            &admin,
            Method::PATCH,
            "/practice/settings",
            Some(json!({ "plan_cancellation": "remaining_payments" })),
        )
        .await;
    assert_eq!((status, settings["plan_cancellation"].as_str()), (200, Some("remaining_payments")));
    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let (_, cancelled) =
        app.staff_post(&manager, &format!("/plans/{id}/cancel"), Some(json!({ "reason": "owner asked" }))).await;
    let owed = payments(&cancelled).iter().find(|p| p["kind"] == "cancellation").unwrap();
    assert_eq!(
        (owed["kind"].as_str(), owed["amount_cents"].as_i64(), owed["status"].as_str()),
        (Some("cancellation"), Some(11 * 3_999), Some("scheduled"))
    );
    assert_eq!(payments(&cancelled).iter().filter(|p| p["status"] == "cancelled").count(), 11);
    assert_eq!(paid_and_owed(&cancelled), 4_900 + 12 * 3_999);

    // The manager's figure: required, then owed.
    app.staff_call(&admin, Method::PATCH, "/practice/settings", Some(json!({ "plan_cancellation": "manager_figure" })))
        .await;
    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let (status, needs) = app.get_json(&format!("/api/dashboard/v1/plans/{id}/cancellation"), &manager).await;
    assert_eq!((status, needs["code"].as_str()), (422, Some("owed_figure_required")));
    let (_, figured) =
        app.get_json(&format!("/api/dashboard/v1/plans/{id}/cancellation?owed_cents=2500"), &manager).await;
    assert_eq!(figured["owed_cents"], 2_500);
    let (_, cancelled) = app
        .staff_post(&manager, &format!("/plans/{id}/cancel"), Some(json!({ "reason": "agreed", "owed_cents": 2_500 })))
        .await;
    assert_eq!(paid_and_owed(&cancelled), 8_899 + 2_500);

    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/plans/{id}/cancellation"), &oak).await.0, 404);
    let (status, _) =
        app.staff_post(&oak, &format!("/plans/{id}/cancel"), Some(json!({ "reason": "x", "owed_cents": 0 }))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn staff_add_notes_and_only_administrators_edit_or_delete_them_the_history_keeping_what_they_said() {
    let app = petbridge_tests::spawn_app().await;
    let Team { home, admin, manager, staff } = team(&app).await;
    let plan = enrol(&app, &manager, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap();

    let (status, refused) = app.staff_post(&staff, &format!("/plans/{id}/notes"), Some(json!({ "body": "  " }))).await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("invalid_body")));
    let (status, note) =
        app.staff_post(&staff, &format!("/plans/{id}/notes"), Some(json!({ "body": "Owner prefers texts" }))).await;
    assert_eq!((status, note["author"].as_str()), (201, Some("frontdesk")), "{note}");
    let note_id = note["id"].as_str().unwrap();
    let path = format!("/plan-notes/{note_id}");
    let edit = json!({ "body": "Owner prefers texts after 5pm" });
    assert_eq!(app.staff_call(&staff, Method::PATCH, path.clone(), Some(edit.clone())).await.0, 403);
    assert_eq!(app.staff_call(&manager, Method::DELETE, path.clone(), None).await.0, 403, "a manager may not delete");
    let (status, edited) = app.staff_call(&admin, Method::PATCH, path.clone(), Some(edit)).await;
    assert_eq!((status, edited["edited_by"].as_str()), (200, Some("admin")));

    let (_, read) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &staff).await;
    assert_eq!(read["notes"][0]["body"], "Owner prefers texts after 5pm");
    let session = app.page_login("maple-vets", "frontdesk").await;
    let (_, html) = app.page(&session, &format!("/dashboard/clients/{}", home.client)).await;
    assert!(html.contains("Owner prefers texts after 5pm") && html.contains("data-testid=\"plan-history\""));
    assert!(!html.contains(&format!("PATCH /plan-notes/{note_id}")), "staff are not offered the edit");

    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.staff_call(&oak, Method::DELETE, path.clone(), None).await.0, 404, "another practice's note");
    assert_eq!(app.staff_post(&oak, &format!("/plans/{id}/notes"), Some(json!({ "body": "x" }))).await.0, 404);

    assert_eq!(app.staff_call(&admin, Method::DELETE, path.clone(), None).await.0, 204);
    let (_, read) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &staff).await;
    assert_eq!(read["notes"], json!([]));
    assert_eq!(actions(&read), ["plan.enrol", "plan.note_add", "plan.note_edit", "plan.note_delete"]);
    let deleted = read["history"].as_array().unwrap().last().unwrap();
    assert_eq!(deleted["detail"]["said"], "Owner prefers texts after 5pm");
    assert_eq!(read["history"][2]["detail"]["before"], "Owner prefers texts");
}

#[tokio::test]
async fn a_pet_the_pms_records_as_deceased_has_its_plan_put_on_hold_by_the_sync() {
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let plan = enrol(&app, &admin, &home, json!({})).await;
    let id = plan["id"].as_str().unwrap();

    let key = app.sync_key(&fixture.practice).await;
    let later = app.clock_now() + Duration::minutes(5);
    let born = (app.clock_now() - Duration::days(125)).date_naive();
    let batch = json!({ "pets": [{ "pms_id": "P1", "updated_at": later.to_rfc3339(), "client_pms_id": "C1", "name": "Bella", "species": "Canine", "date_of_birth": born, "status": "deceased" }] });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let (_, read) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &admin).await;
    assert_eq!((read["status"].as_str(), read["hold_reason"].as_str()), (Some("on_hold"), Some("deceased_pet")));
    let entry = read["history"].as_array().unwrap().last().unwrap();
    assert_eq!((entry["action"].as_str(), entry["actor"].as_str()), (Some("plan.hold"), Some("system (PMS sync)")));
    // The same record again changes nothing.
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let (_, again) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), &admin).await;
    assert_eq!(again["history"].as_array().unwrap().len(), read["history"].as_array().unwrap().len());
}

/// What `username` earned this year, from the Performance report.
async fn year_points(app: &TestApp, admin: &str, username: &str) -> i64 {
    let (_, rows) = app.get_json("/api/dashboard/v1/performance", admin).await;
    let row = rows.as_array().unwrap().iter().find(|r| r["username"] == username).unwrap();
    row["periods"].as_array().unwrap().iter().find(|p| p["period"] == "year").unwrap()["earned"].as_i64().unwrap()
}

#[tokio::test]
async fn plan_points_go_to_the_seller_with_more_for_another_pet_and_a_quick_cancellation_takes_them_back() {
    use chrono::TimeZone;
    let app = petbridge_tests::spawn_app().await;
    // Tuesday 3 March 2026 in Denver: the year's window holds every step below.
    app.clock.set(chrono::Utc.with_ymd_and_hms(2026, 3, 3, 19, 0, 0).unwrap());
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let points = json!({ "enrolment": 10, "multi_pet": 5, "upgrade": 3, "add_on": 2, "reversal_days": 30 });
    let (status, refused) = app
        .staff_call(
            &admin,
            Method::PATCH,
            "/practice/settings",
            Some(json!({ "plan_points": { "enrolment": 5000, "multi_pet": 0, "upgrade": 0, "add_on": 0, "reversal_days": 0 } })),
        )
        .await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("invalid_plan_points")));
    let (status, saved) = app
        .staff_call(
            &admin,
            Method::PATCH,
            "/practice/settings",
            Some(json!({ "plan_points": points, "multi_pet_discount_cents": 1_000 })),
        )
        .await;
    assert_eq!((status, saved["plan_points"].clone()), (200, points));
    let (status, refused) = app
        .staff_call(&admin, Method::PATCH, "/practice/settings", Some(json!({ "multi_pet_discount_cents": -1 })))
        .await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("invalid_multi_pet_discount")));
    let mut kitten = puppy();
    kitten["code"] = json!("kitten");
    kitten["species"] = json!("cat");
    let kitten = create(&app, &admin, kitten).await["id"].as_str().unwrap().to_owned();
    let mut plus = puppy();
    plus["code"] = json!("puppy-plus");
    plus["monthly_price_cents"] = json!(4_999);
    let plus = create(&app, &admin, plus).await["id"].as_str().unwrap().to_owned();

    // The front desk enrols both pets, a manager approving in place: the seller earns the points.
    let staff = app.login("maple-vets", "frontdesk").await;
    let enrol_by_staff = |pet: &str, template: &str| {
        let request = app
            .client
            .post(app.url(&format!("/api/dashboard/v1/clients/{}/plans", home.client)))
            .bearer_auth(&staff)
            .header("x-override-username", "manager")
            .header("x-override-password", petbridge_tests::PASSWORD)
            .json(&json!({ "pet_id": pet, "template_id": template, "skip_payment_method": true }));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 201);
            response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let bella = enrol_by_staff(&home.puppy, &home.template).await;
    assert_eq!(year_points(&app, &admin, "frontdesk").await, 10);
    // The household's second pet gets the multi-pet discount off its fee, quoted first.
    let (_, quoted) = app
        .staff_post(&admin, &format!("/plan-templates/{kitten}/quote"), Some(json!({ "client_id": home.client })))
        .await;
    assert_eq!(
        (quoted["initial_fee_cents"].as_i64(), quoted["initial_charge_cents"].as_i64()),
        (Some(3_900), Some(3_900 + 3_999))
    );
    let tom = enrol_by_staff(&home.cat, &kitten).await;
    let (_, tom_plan) = app.get_json(&format!("/api/dashboard/v1/plans/{tom}"), &admin).await;
    assert_eq!(
        (tom_plan["initial_fee_cents"].as_i64(), tom_plan["payments"][0]["amount_cents"].as_i64()),
        (Some(3_900), Some(3_900 + 3_999))
    );
    assert_eq!(year_points(&app, &admin, "frontdesk").await, 10 + 10 + 5, "Tom is the household's second plan");
    let session = app.page_login("maple-vets", "admin").await;
    let (_, page) = app.page(&session, "/dashboard/performance").await;
    assert!(page.contains("25 <small class=\"muted\">no goal</small>"), "the Performance page shows the points");

    let manager = app.login("maple-vets", "manager").await;
    let (status, _) =
        app.staff_post(&manager, &format!("/plans/{bella}/change"), Some(json!({ "template_id": plus }))).await;
    assert_eq!(status, 200);
    assert_eq!(year_points(&app, &admin, "manager").await, 3, "the upgrade's points go to the manager who made it");

    // Tom's plan is cancelled within 30 days: its 15 points go back.
    let (status, cancelled) = app
        .staff_post(
            &manager,
            &format!("/plans/{tom}/cancel"),
            Some(json!({ "reason": "changed their mind", "refund": "keep" })),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["history"].as_array().unwrap().last().unwrap()["detail"]["points_taken_back"], 15);
    assert_eq!(year_points(&app, &admin, "frontdesk").await, 10);

    // Bella's, cancelled after 31 days, keeps them.
    app.clock.advance(Duration::days(31));
    let manager = app.login("maple-vets", "manager").await;
    let admin = app.login("maple-vets", "admin").await;
    app.staff_post(&manager, &format!("/plans/{bella}/cancel"), Some(json!({ "reason": "moved", "refund": "keep" })))
        .await;
    assert_eq!((year_points(&app, &admin, "frontdesk").await, year_points(&app, &admin, "manager").await), (10, 3));
}
