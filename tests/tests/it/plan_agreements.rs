//! The healthcare agreement (PLANS.md A12) as the practice and the owner
//! meet it: issued at enrolment, at a change and on renewal, stored with
//! its SHA-256, printed from the plan, emailed to the owner, read and
//! signed in the app; nothing of it reaches another practice or household.

use petbridge_domain::kernel::tokens::sha256_hex as sha256;
use petbridge_tests::{TestApp, poppler};
use reqwest::Method;
use serde_json::{Value, json};

use crate::plan_renewals::give_ann_her_email;
use crate::plans::{Household, household, puppy};

/// The words of `pdf` as pdftotext reads them, wrapped lines joined up.
pub(crate) fn words(pdf: &[u8]) -> Option<String> {
    poppler("pdftotext", pdf).map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Fetches `path` with `token`: status, content type and bytes.
pub(crate) async fn fetch(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, response.bytes().await.unwrap().to_vec())
}

async fn plan(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, plan) = app.get_json(&format!("/api/dashboard/v1/plans/{id}"), token).await;
    assert_eq!(status, 200, "{plan}");
    plan
}

/// A dearer plan of the same term and ages, to change Bella's plan to.
async fn puppy_plus(app: &TestApp, admin: &str) -> String {
    let mut plus = puppy();
    plus["code"] = json!("puppy-plus");
    plus["name"] = json!("Puppy Plus");
    plus["monthly_price_cents"] = json!(4_599);
    let (status, made) = app.staff_post(admin, "/plan-templates", Some(plus)).await;
    assert_eq!(status, 201, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// Bella enrolled by the administrator, Bob named as co-owner.
async fn enrol_bella(app: &TestApp, admin: &str, home: &Household) -> Value {
    let body = json!({
        "pet_id": home.puppy, "template_id": home.template, "skip_payment_method": true, "co_owner": "  Bob Jones ",
    });
    let (status, enrolled) = app.staff_post(admin, &format!("/clients/{}/plans", home.client), Some(body)).await;
    assert_eq!(status, 201, "{enrolled}");
    enrolled
}

#[tokio::test]
async fn each_enrolment_change_and_renewal_issues_an_agreement_kept_byte_for_byte_and_emailed() {
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    give_ann_her_email(&app, &fixture).await;
    let letterhead = json!({ "letterhead": ["12 Maple Street, Denver, CO 80202", "", "(303) 555-0100"] });
    let (status, settings) = app.staff_call(&admin, Method::PATCH, "/practice/settings", Some(letterhead)).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        settings["letterhead"],
        json!(["12 Maple Street, Denver, CO 80202", "(303) 555-0100"]),
        "blank lines go"
    );

    let enrolled = enrol_bella(&app, &admin, &home).await;
    let id = enrolled["id"].as_str().unwrap().to_owned();
    assert_eq!(enrolled["co_owner"], "Bob Jones");
    let first = enrolled["agreements"][0].clone();
    assert_eq!((first["number"].as_i64(), first["occasion"].as_str()), (Some(1), Some("enrolment")));
    assert_eq!((first["issued_by"].as_str(), first["signature"].clone()), (Some("admin"), Value::Null));
    let path =
        |agreement: &Value| format!("/api/dashboard/v1/plans/{id}/agreements/{}", agreement["id"].as_str().unwrap());
    let (status, kind, pdf) = fetch(&app, &path(&first), &admin).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(sha256(&pdf), first["sha256"].as_str().unwrap(), "the PDF is the one the plan lists");
    if let Some(text) = words(&pdf) {
        for fact in [
            "Ann Jones",
            "Bob Jones",
            "Bella",
            "Puppy Plan (PUPPY, version 1)",
            "12 Maple Street, Denver, CO 80202",
            "$49.00",
            "Payment 12 of 12",
            "This plan is not insurance",
            "WP110",
            "Unlimited",
            "the retail value of the care already used",
            "Do not renew",
        ] {
            assert!(text.contains(fact), "{fact:?} is not in the agreement:\n{text}");
        }
    }

    // Emailed to Ann, with the very PDF attached.
    let mail = app.mailbox("ann@example.com").await;
    let sent = mail.iter().find(|m| m["data"]["template"] == "plan_agreement").expect("the agreement email");
    assert!(sent["body"].as_str().unwrap().contains(first["sha256"].as_str().unwrap()));
    let attached = &sent["attachments"][0];
    assert_eq!(
        (attached["content_type"].as_str(), attached["sha256"].clone()),
        (Some("application/pdf"), first["sha256"].clone())
    );
    assert_eq!(attached["filename"], "healthcare-agreement-bella-1.pdf");

    // A change issues the second; the first stays as it was.
    let plus = puppy_plus(&app, &admin).await;
    let (status, changed) =
        app.staff_post(&admin, &format!("/plans/{id}/change"), Some(json!({ "template_id": plus }))).await;
    assert_eq!(status, 200, "{changed}");
    let agreements = changed["agreements"].as_array().unwrap();
    assert_eq!(agreements.len(), 2);
    let second = agreements[1].clone();
    assert_eq!((second["number"].as_i64(), second["occasion"].as_str()), (Some(2), Some("change")));
    assert_ne!(second["sha256"], first["sha256"]);
    assert_eq!(agreements[0], first, "the first agreement is kept as issued");
    assert_eq!(fetch(&app, &path(&first), &admin).await.2, pdf, "byte for byte");
    let (_, _, changed_pdf) = fetch(&app, &path(&second), &admin).await;
    assert_eq!(sha256(&changed_pdf), second["sha256"].as_str().unwrap());
    if let Some(text) = words(&changed_pdf) {
        assert!(
            text.contains("Puppy Plus (PUPPY-PLUS, version 1)") && text.contains("for a change to the plan"),
            "{text}"
        );
    }

    // The renewal is a plan of its own, with its own first agreement.
    let mut adult = puppy();
    adult["code"] = json!("adult");
    adult["name"] = json!("Adult Dog Plan");
    (adult["min_age_months"], adult["max_age_months"]) = (json!(12), json!(null));
    let (_, adult) = app.staff_post(&admin, "/plan-templates", Some(adult)).await;
    let into = json!({ "template_id": adult["id"] });
    let (status, renewal) = app.staff_post(&admin, &format!("/plans/{id}/renew"), Some(into)).await;
    assert_eq!(status, 201, "{renewal}");
    let issued = &renewal["agreements"][0];
    assert_eq!((issued["number"].as_i64(), issued["occasion"].as_str()), (Some(1), Some("renewal")));
    let renewal_path = format!(
        "/api/dashboard/v1/plans/{}/agreements/{}",
        renewal["id"].as_str().unwrap(),
        issued["id"].as_str().unwrap()
    );
    let (_, _, renewal_pdf) = fetch(&app, &renewal_path, &admin).await;
    if let Some(text) = words(&renewal_pdf) {
        for fact in ["for the plan’s renewal", "None (a renewal)", "12 monthly payments of $39.99 ", "Bob Jones"] {
            assert!(text.contains(fact), "{fact:?} is not in the renewal's agreement:\n{text}");
        }
    }
    // Started early, the renewal's term moves: it is issued the new dates.
    let (status, started) =
        app.staff_post(&admin, &format!("/plans/{}/activate", renewal["id"].as_str().unwrap()), None).await;
    assert_eq!(status, 200, "{started}");
    let reissued = &started["agreements"][1];
    assert_eq!((reissued["number"].as_i64(), reissued["occasion"].as_str()), (Some(2), Some("change")));
    let sent = app.mailbox("ann@example.com").await;
    assert_eq!(sent.iter().filter(|m| m["data"]["template"] == "plan_agreement").count(), 4, "one email each");

    // Nobody else reaches them: another practice, or the right agreement under another plan.
    app.practice("oak-vets").await;
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(fetch(&app, &path(&first), &oak).await.0, 404);
    let crossed = format!(
        "/api/dashboard/v1/plans/{}/agreements/{}",
        renewal["id"].as_str().unwrap(),
        first["id"].as_str().unwrap()
    );
    assert_eq!(fetch(&app, &crossed, &admin).await.0, 404);
}

#[tokio::test]
async fn the_owner_reads_and_signs_the_agreement_in_force_and_the_signing_record_keeps_how() {
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let admin = app.login("maple-vets", "admin").await;
    let home = household(&app, &fixture, &admin).await;
    let enrolled = enrol_bella(&app, &admin, &home).await;
    let id = enrolled["id"].as_str().unwrap().to_owned();
    let plus = puppy_plus(&app, &admin).await;
    let (status, _) =
        app.staff_post(&admin, &format!("/plans/{id}/change"), Some(json!({ "template_id": plus }))).await;
    assert_eq!(status, 200);

    let owner = app.verified_owner("maple-vets", "ann@example.com").await;
    give_ann_her_email(&app, &fixture).await;
    let (_, plans) = app.app_call(Method::GET, "/plans", Some(&owner), None).await;
    let listed = plans[0]["agreements"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{plans}");
    let (old, current) = (listed[0]["id"].as_str().unwrap(), listed[1]["id"].as_str().unwrap());
    let (status, kind, pdf) = fetch(&app, &format!("/api/app/v1/plans/{id}/agreements/{current}"), &owner).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert_eq!(sha256(&pdf), listed[1]["sha256"].as_str().unwrap());

    let stranger = app.verified_owner("maple-vets", "stranger@example.com").await;
    assert_eq!(fetch(&app, &format!("/api/app/v1/plans/{id}/agreements/{current}"), &stranger).await.0, 404);
    let sign = |token: String, agreement: String, name: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let response = app
                .client
                .post(app.url(&format!("/api/app/v1/plans/{id}/agreements/{agreement}/sign")))
                .bearer_auth(token)
                .header("user-agent", "PetbridgeApp/2.1 (iOS 19.1)")
                .json(&json!({ "typed_name": name }))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(sign(stranger.clone(), current.to_owned(), "Eve").await.0, 404, "another household's plan");
    let (status, refused) = sign(owner.clone(), current.to_owned(), "   ").await;
    assert_eq!((status, refused["code"].as_str()), (422, Some("signature_required")));
    let (status, refused) = sign(owner.clone(), old.to_owned(), "Ann Jones").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("agreement_superseded")), "only the agreement in force");

    let (status, signed) = sign(owner.clone(), current.to_owned(), "Ann Jones").await;
    assert_eq!(status, 200, "{signed}");
    let own = &signed["agreements"][1]["signature"];
    assert_eq!(own["name"], "Ann Jones", "the owner sees their own signing record");
    assert!(own["signed_at"].is_string() && own["statement"].as_str().unwrap().contains("Ann Jones"));
    let (status, again) = sign(owner, current.to_owned(), "Ann Jones").await;
    assert_eq!((status, again["code"].as_str()), (409, Some("agreement_signed")));

    // Staff see the whole signing record, and the plan's history says so.
    let seen = plan(&app, &admin, &id).await;
    let signature = &seen["agreements"][1]["signature"];
    assert_eq!(signature["name"], "Ann Jones");
    assert_eq!(signature["user_agent"], "PetbridgeApp/2.1 (iOS 19.1)");
    assert_eq!(signature["address"], "127.0.0.1");
    let statement = signature["statement"].as_str().unwrap();
    assert!(statement.starts_with("I, Ann Jones, have read and agree"), "{statement}");
    assert!(statement.contains(listed[1]["sha256"].as_str().unwrap()), "the words name the PDF signed: {statement}");
    assert_eq!(seen["agreements"][0]["signature"], Value::Null);
    let last = seen["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("plan.agreement_signed"), Some("Ann Jones (the owner, in the app)"))
    );
    let session = app.page_login("maple-vets", "admin").await;
    let (_, html) = app.page(&session, &format!("/dashboard/clients/{}", home.client)).await;
    assert!(
        html.contains("signed by Ann Jones") && html.contains("data-testid=\"print-agreement\""),
        "the plan view shows it"
    );
}
