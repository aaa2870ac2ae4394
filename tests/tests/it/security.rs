use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{
    PASSWORD, TestApp, TestDatabase, fake_stripe::FakeStripe, spawn_app, spawn_with, spawn_with_stripe, test_settings,
};
use reqwest::Method;
use serde_json::{Value, json};

/// Every dashboard operation and the lowest level that may call it (`None`:
/// public). A new operation without an entry fails the test below.
const OPERATIONS: &[(&str, Option<SecurityLevel>)] = &[
    ("login", None),
    ("completeSecondFactor", None),
    ("beginTwoFactor", Some(SecurityLevel::Staff)),
    ("confirmTwoFactor", Some(SecurityLevel::Staff)),
    ("disableTwoFactor", Some(SecurityLevel::Staff)),
    ("logout", Some(SecurityLevel::Staff)),
    ("getMe", Some(SecurityLevel::Staff)),
    ("updateMe", Some(SecurityLevel::Staff)),
    ("changeMyPassword", Some(SecurityLevel::Staff)),
    ("getStaffMember", Some(SecurityLevel::Staff)),
    ("getStaffPicture", Some(SecurityLevel::Staff)),
    ("setMyPicture", Some(SecurityLevel::Staff)),
    ("setUserPicture", Some(SecurityLevel::Administrator)),
    ("listDeliveries", Some(SecurityLevel::Staff)),
    ("getDelivery", Some(SecurityLevel::Staff)),
    ("deliveryVolumes", Some(SecurityLevel::Manager)),
    ("listUsers", Some(SecurityLevel::Administrator)),
    ("createUser", Some(SecurityLevel::Administrator)),
    ("updateUser", Some(SecurityLevel::Administrator)),
    ("lockUser", Some(SecurityLevel::Administrator)),
    ("unlockUser", Some(SecurityLevel::Administrator)),
    ("deleteUser", Some(SecurityLevel::Administrator)),
    ("listActivity", Some(SecurityLevel::Administrator)),
    ("exportActivity", Some(SecurityLevel::Administrator)),
    ("listPerformance", Some(SecurityLevel::Administrator)),
    ("setGoal", Some(SecurityLevel::Administrator)),
    ("getPracticeSettings", Some(SecurityLevel::Administrator)),
    ("updatePracticeSettings", Some(SecurityLevel::Administrator)),
    ("listClients", Some(SecurityLevel::Staff)),
    ("exportClients", Some(SecurityLevel::Staff)),
    ("getClient", Some(SecurityLevel::Staff)),
    ("updateClient", Some(SecurityLevel::Staff)),
    ("inviteClient", Some(SecurityLevel::Staff)),
    ("reinviteAllClients", Some(SecurityLevel::Manager)),
    ("disableClient", Some(SecurityLevel::Staff)),
    ("enableClient", Some(SecurityLevel::Staff)),
    ("removePetFromApp", Some(SecurityLevel::Staff)),
    ("setClientNote", Some(SecurityLevel::Staff)),
    ("reinstatePet", Some(SecurityLevel::Staff)),
    ("getClientPreferences", Some(SecurityLevel::Staff)),
    ("updateClientPreferences", Some(SecurityLevel::Staff)),
    ("sendBlast", Some(SecurityLevel::Manager)),
    ("listCampaigns", Some(SecurityLevel::Staff)),
    ("listConversations", Some(SecurityLevel::Staff)),
    ("startConversation", Some(SecurityLevel::Staff)),
    ("getConversationById", Some(SecurityLevel::Staff)),
    ("listConversationMessages", Some(SecurityLevel::Staff)),
    ("answerConversation", Some(SecurityLevel::Staff)),
    ("markConversationReadByStaff", Some(SecurityLevel::Staff)),
    ("uploadConversationAttachment", Some(SecurityLevel::Staff)),
    ("getConversationAttachment", Some(SecurityLevel::Staff)),
    ("updateConversation", Some(SecurityLevel::Staff)),
    ("notifyClient", Some(SecurityLevel::Staff)),
    ("listClientNotifications", Some(SecurityLevel::Staff)),
    ("getClientLoyalty", Some(SecurityLevel::Staff)),
    ("addPaws", Some(SecurityLevel::Staff)),
    ("oopsPaw", Some(SecurityLevel::Staff)),
    ("manualReward", Some(SecurityLevel::Staff)),
    ("decideRewardRequest", Some(SecurityLevel::Staff)),
    ("listRewards", Some(SecurityLevel::Staff)),
    ("listPendingRewardRequests", Some(SecurityLevel::Staff)),
    ("createReward", Some(SecurityLevel::Manager)),
    ("updateReward", Some(SecurityLevel::Manager)),
    ("listClientRequests", Some(SecurityLevel::Staff)),
    ("updateRequest", Some(SecurityLevel::Staff)),
    ("listClientSelfies", Some(SecurityLevel::Staff)),
    ("getClientSelfiePhoto", Some(SecurityLevel::Staff)),
    ("getClientSelfieThumbnail", Some(SecurityLevel::Staff)),
    ("updateSelfie", Some(SecurityLevel::Staff)),
    ("listInactivatedPets", Some(SecurityLevel::Staff)),
    ("listSyncKeys", Some(SecurityLevel::Administrator)),
    ("createSyncKey", Some(SecurityLevel::Administrator)),
    ("rotateSyncKey", Some(SecurityLevel::Administrator)),
    ("revokeSyncKey", Some(SecurityLevel::Administrator)),
    ("listSyncBatches", Some(SecurityLevel::Administrator)),
    ("listPlanTemplates", Some(SecurityLevel::Staff)),
    ("getPlanTemplate", Some(SecurityLevel::Staff)),
    ("listPlanTemplateVersions", Some(SecurityLevel::Staff)),
    ("createPlanTemplate", Some(SecurityLevel::Administrator)),
    ("revisePlanTemplate", Some(SecurityLevel::Administrator)),
    ("offerPlanTemplate", Some(SecurityLevel::Administrator)),
    ("quotePlan", Some(SecurityLevel::Staff)),
    // Without a payment method on file, enrolling needs one of the gated options.
    ("enrolPet", Some(SecurityLevel::Manager)),
    ("listClientPlans", Some(SecurityLevel::Staff)),
    ("getPlan", Some(SecurityLevel::Staff)),
    ("holdPlan", Some(SecurityLevel::Manager)),
    ("releasePlan", Some(SecurityLevel::Manager)),
    ("changePlan", Some(SecurityLevel::Manager)),
    ("previewPlanCancellation", Some(SecurityLevel::Staff)),
    ("cancelPlan", Some(SecurityLevel::Manager)),
    ("addPlanNote", Some(SecurityLevel::Staff)),
    ("editPlanNote", Some(SecurityLevel::Administrator)),
    ("deletePlanNote", Some(SecurityLevel::Administrator)),
    ("renewPlan", Some(SecurityLevel::Manager)),
    ("configureRenewal", Some(SecurityLevel::Manager)),
    ("activatePlan", Some(SecurityLevel::Manager)),
    ("getPlanAgreement", Some(SecurityLevel::Staff)),
    ("beginCardSetup", Some(SecurityLevel::Manager)),
    ("savePaymentCard", Some(SecurityLevel::Manager)),
    ("listPaymentCards", Some(SecurityLevel::Staff)),
    // Before the card is deleted and the payment charged: both need it.
    ("choosePlanCard", Some(SecurityLevel::Manager)),
    // Turning it off needs an administrator; the table turns it off.
    ("setAutoCharge", Some(SecurityLevel::Administrator)),
    // Marked and undone by each level that may, before the charge.
    ("markPaidExternally", Some(SecurityLevel::Manager)),
    ("undoPaidExternally", Some(SecurityLevel::Manager)),
    ("chargePayment", Some(SecurityLevel::Administrator)),
    ("addSupplementalPayment", Some(SecurityLevel::Administrator)),
    // Charges what is left of the plan (the supplemental payment too).
    ("chargeRemainingPayments", Some(SecurityLevel::Administrator)),
    ("deletePaymentCard", Some(SecurityLevel::Administrator)),
];

/// Records of the practice the operations act on.
struct Ids {
    target: String,
    delivery: String,
    client: String,
    pet: String,
    key: String,
    conversation: String,
    attachment: String,
    household: Household,
}

/// Records of the client's household the loyalty, request and selfie
/// operations act on.
#[derive(Clone, Default)]
struct Household {
    paw_entry: String,
    reward_request: String,
    reward: String,
    request: String,
    selfie: String,
    plan_template: String,
    /// A template no table operation retires, and a plan sold on it.
    enrol_template: String,
    plan: String,
    /// The healthcare agreement that plan was issued.
    agreement: String,
    /// A template of the same term to change the plan to.
    change_template: String,
    /// A second pet's plan, for the cancellation.
    cancel_plan: String,
    plan_note: String,
    /// A card saved for the client, and the setup that saved it.
    card: String,
    setup_intent: String,
    /// The plan's first payment.
    payment: String,
}

/// How to call an operation: method, path and body, given a fresh staff
/// account to act on and a delivery of the practice.
fn request(operation: &str, ids: &Ids, n: usize) -> (Method, String, Option<Value>) {
    let get = |path: String| (Method::GET, path, None);
    let (target, delivery, client, pet, key) = (&ids.target, &ids.delivery, &ids.client, &ids.pet, &ids.key);
    let (conversation, attachment) = (&ids.conversation, &ids.attachment);
    let Household {
        paw_entry,
        reward_request,
        reward,
        request,
        selfie,
        plan_template,
        enrol_template,
        plan,
        agreement,
        change_template,
        cancel_plan,
        plan_note,
        card,
        setup_intent,
        payment,
    } = &ids.household;
    match operation {
        "getMe" => get("/me".into()),
        "updateMe" => (Method::PATCH, "/me".into(), Some(json!({ "display_name": "Still Me" }))),
        "getStaffMember" => get(format!("/staff/{target}")),
        // No picture yet: 404, which is not a refusal.
        "getStaffPicture" => get(format!("/staff/{target}/picture")),
        "setMyPicture" => (Method::PUT, "/me/picture".into(), Some(Value::String(PICTURE.into()))),
        "setUserPicture" => (Method::PUT, format!("/users/{target}/picture"), Some(Value::String(PICTURE.into()))),
        "listDeliveries" => get("/deliveries".into()),
        "getDelivery" => get(format!("/deliveries/{delivery}")),
        "deliveryVolumes" => get("/reports/delivery-volumes".into()),
        "listUsers" => get("/users".into()),
        "createUser" => (
            Method::POST,
            "/users".into(),
            Some(
                json!({ "username": format!("new{n}"), "display_name": "New", "level": "staff", "password": PASSWORD }),
            ),
        ),
        "updateUser" => (Method::PATCH, format!("/users/{target}"), Some(json!({ "display_name": "Renamed" }))),
        "lockUser" => (Method::POST, format!("/users/{target}/lock"), None),
        "unlockUser" => (Method::POST, format!("/users/{target}/unlock"), None),
        "deleteUser" => (Method::DELETE, format!("/users/{target}"), None),
        "listActivity" => get("/activity".into()),
        "exportActivity" => get("/activity/export".into()),
        "listPerformance" => get("/performance".into()),
        "getPracticeSettings" => get("/practice/settings".into()),
        "updatePracticeSettings" => {
            (Method::PATCH, "/practice/settings".into(), Some(json!({ "lockout_threshold": 5 })))
        }
        "setGoal" => (Method::PUT, format!("/users/{target}/goals/week"), Some(json!({ "points": 5 }))),
        "logout" => (Method::POST, "/auth/logout".into(), None),
        "listClients" => get("/clients".into()),
        "exportClients" => get("/clients/export.csv".into()),
        "getClient" => get(format!("/clients/{client}")),
        "updateClient" => {
            (Method::PATCH, format!("/clients/{client}"), Some(json!({ "phone": format!("+1303555{:04}", n) })))
        }
        "inviteClient" => (
            Method::POST,
            "/clients/invitations".into(),
            Some(json!({ "email": format!("invitee{n}@example.com"), "first_name": "In", "last_name": "Vitee" })),
        ),
        "reinviteAllClients" => (Method::POST, "/clients/reinvite-all".into(), None),
        "disableClient" => (Method::POST, format!("/clients/{client}/disable"), None),
        "enableClient" => (Method::POST, format!("/clients/{client}/enable"), None),
        "removePetFromApp" => (Method::POST, format!("/pets/{pet}/remove"), None),
        "setClientNote" => {
            (Method::PUT, format!("/clients/{client}/personal-note"), Some(json!({ "note": format!("note {n}") })))
        }
        "reinstatePet" => (Method::POST, format!("/pets/{pet}/reinstate"), None),
        "getClientPreferences" => get(format!("/clients/{client}/preferences")),
        "updateClientPreferences" => (
            Method::PATCH,
            format!("/clients/{client}/preferences"),
            Some(json!({ "postcard_reminders": n.is_multiple_of(2) })),
        ),
        "sendBlast" => (
            Method::POST,
            "/campaigns/blasts".into(),
            Some(json!({ "title": "Closed Friday", "body": format!("note {n}") })),
        ),
        "listCampaigns" => get("/campaigns".into()),
        "listConversations" => get("/conversations".into()),
        "startConversation" => (Method::POST, format!("/clients/{client}/conversation"), None),
        "getConversationById" => get(format!("/conversations/{conversation}")),
        "listConversationMessages" => get(format!("/conversations/{conversation}/messages")),
        "answerConversation" => (
            Method::POST,
            format!("/conversations/{conversation}/messages"),
            Some(json!({ "client_message_id": format!("table-{n}"), "body": "Hello" })),
        ),
        "uploadConversationAttachment" => {
            (Method::POST, format!("/conversations/{conversation}/attachments"), Some(Value::String(PICTURE.into())))
        }
        "getConversationAttachment" => get(format!("/conversations/{conversation}/attachments/{attachment}")),
        "markConversationReadByStaff" => {
            (Method::POST, format!("/conversations/{conversation}/read"), Some(json!({ "seq": 1 })))
        }
        "updateConversation" => {
            (Method::PATCH, format!("/conversations/{conversation}"), Some(json!({ "status": "open" })))
        }
        "notifyClient" => (
            Method::POST,
            format!("/clients/{client}/notifications"),
            Some(json!({ "title": "Lab results", "body": format!("note {n}") })),
        ),
        "listClientNotifications" => get(format!("/clients/{client}/notifications")),
        "getClientLoyalty" => get(format!("/clients/{client}/loyalty")),
        "addPaws" => (Method::POST, format!("/clients/{client}/paws"), Some(json!({}))),
        "oopsPaw" => (Method::POST, format!("/paw-entries/{paw_entry}/oops"), None),
        "manualReward" => (
            Method::POST,
            format!("/clients/{client}/rewards"),
            Some(json!({ "name": format!("Treat {n}"), "paws": 1 })),
        ),
        "decideRewardRequest" => (
            Method::POST,
            format!("/reward-requests/{reward_request}/decision"),
            Some(json!({ "decision": "approve" })),
        ),
        "listRewards" => get("/rewards".into()),
        "listPendingRewardRequests" => get("/reward-requests".into()),
        "createReward" => {
            (Method::POST, "/rewards".into(), Some(json!({ "name": format!("Reward {n}"), "paws_needed": 3 })))
        }
        "updateReward" => {
            (Method::PATCH, format!("/rewards/{reward}"), Some(json!({ "name": format!("Renamed {n}") })))
        }
        "listClientRequests" => get(format!("/clients/{client}/requests")),
        "updateRequest" => (Method::PATCH, format!("/requests/{request}"), Some(json!({ "status": "accepted" }))),
        "listClientSelfies" => get(format!("/clients/{client}/selfies")),
        "getClientSelfiePhoto" => get(format!("/selfies/{selfie}/photo")),
        "getClientSelfieThumbnail" => get(format!("/selfies/{selfie}/thumbnail")),
        "updateSelfie" => {
            (Method::PATCH, format!("/selfies/{selfie}"), Some(json!({ "starred": n.is_multiple_of(2) })))
        }
        "listInactivatedPets" => get("/inactivated-pets".into()),
        "listSyncKeys" => get("/sync/keys".into()),
        "createSyncKey" => (Method::POST, "/sync/keys".into(), Some(json!({ "name": format!("agent {n}") }))),
        "rotateSyncKey" => (Method::POST, format!("/sync/keys/{key}/rotate"), None),
        "revokeSyncKey" => (Method::DELETE, format!("/sync/keys/{key}"), None),
        "listSyncBatches" => get("/sync/batches".into()),
        "listPlanTemplates" => get("/plan-templates".into()),
        "getPlanTemplate" => get(format!("/plan-templates/{plan_template}")),
        "listPlanTemplateVersions" => get(format!("/plan-templates/{plan_template}/versions")),
        "createPlanTemplate" => (Method::POST, "/plan-templates".into(), Some(plan_template_draft(&format!("T{n}")))),
        "revisePlanTemplate" => {
            (Method::PUT, format!("/plan-templates/{plan_template}"), Some(plan_template_draft("TABLE")))
        }
        "offerPlanTemplate" => {
            (Method::PATCH, format!("/plan-templates/{plan_template}"), Some(json!({ "retired": n.is_multiple_of(2) })))
        }
        "quotePlan" => (Method::POST, format!("/plan-templates/{enrol_template}/quote"), Some(json!({}))),
        "enrolPet" => (
            Method::POST,
            format!("/clients/{client}/plans"),
            Some(json!({ "pet_id": pet, "template_id": enrol_template, "skip_payment_method": true })),
        ),
        "listClientPlans" => get(format!("/clients/{client}/plans")),
        "getPlan" => get(format!("/plans/{plan}")),
        "holdPlan" => (Method::POST, format!("/plans/{plan}/hold"), Some(json!({ "reason": "financial" }))),
        "releasePlan" => (Method::POST, format!("/plans/{plan}/release"), Some(json!({ "missed": "charge" }))),
        "changePlan" => {
            (Method::POST, format!("/plans/{plan}/change"), Some(json!({ "template_id": change_template })))
        }
        "previewPlanCancellation" => get(format!("/plans/{plan}/cancellation")),
        "cancelPlan" => (
            Method::POST,
            format!("/plans/{cancel_plan}/cancel"),
            Some(json!({ "reason": "table", "refund": "keep", "owed_cents": 0 })),
        ),
        "addPlanNote" => (Method::POST, format!("/plans/{plan}/notes"), Some(json!({ "body": "A table note" }))),
        "editPlanNote" => (Method::PATCH, format!("/plan-notes/{plan_note}"), Some(json!({ "body": "Edited" }))),
        "deletePlanNote" => (Method::DELETE, format!("/plan-notes/{plan_note}"), None),
        "renewPlan" => (Method::POST, format!("/plans/{plan}/renew"), Some(json!({}))),
        "configureRenewal" => (Method::PATCH, format!("/plans/{plan}/renewal"), Some(json!({ "renewal": "auto" }))),
        "activatePlan" => (Method::POST, format!("/plans/{plan}/activate"), None),
        "getPlanAgreement" => get(format!("/plans/{plan}/agreements/{agreement}")),
        "beginCardSetup" => (Method::POST, format!("/clients/{client}/payment-cards/setup"), None),
        // The same setup again is the same card.
        "savePaymentCard" => {
            (Method::POST, format!("/clients/{client}/payment-cards"), Some(json!({ "setup_intent": setup_intent })))
        }
        "listPaymentCards" => get(format!("/clients/{client}/payment-cards")),
        "choosePlanCard" => (Method::PUT, format!("/plans/{plan}/card"), Some(json!({ "payment_profile_id": card }))),
        "chargePayment" => (Method::POST, format!("/plan-payments/{payment}/charge"), None),
        "setAutoCharge" => (Method::PUT, format!("/plans/{plan}/auto-charge"), Some(json!({ "on": false }))),
        "markPaidExternally" => (Method::POST, format!("/plan-payments/{payment}/paid-externally"), None),
        "undoPaidExternally" => (Method::DELETE, format!("/plan-payments/{payment}/paid-externally"), None),
        "deletePaymentCard" => (Method::DELETE, format!("/payment-cards/{card}"), None),
        "addSupplementalPayment" => (
            Method::POST,
            format!("/plans/{plan}/supplemental-payments"),
            Some(json!({ "purpose": "card_fee", "amount_cents": 300 })),
        ),
        "chargeRemainingPayments" => (Method::POST, format!("/plans/{plan}/charge-remaining"), None),
        other => panic!("no request for {other}"),
    }
}

fn ids_none() -> Ids {
    Ids {
        target: String::new(),
        delivery: String::new(),
        client: String::new(),
        pet: String::new(),
        key: String::new(),
        conversation: String::new(),
        attachment: String::new(),
        household: Household::default(),
    }
}

/// Stands for a picture upload in the table (sent as a real PNG).
const PICTURE: &str = "<picture>";

fn tiny_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(8, 8, image::Rgb([200, 120, 40])).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A paw, a reward and a pending request for it, an order, a selfie, plans
/// and a saved card of the client's household.
async fn household_records(app: &TestApp, stripe: &FakeStripe, admin: &str, owner: &str, client: &str) -> Household {
    let staff = |method: Method, path: String, body: Value| call(app, admin, (method, path, Some(body)));
    assert_eq!(staff(Method::POST, format!("/clients/{client}/paws"), json!({ "paws": 100 })).await.status(), 201);
    let paw = staff(Method::POST, format!("/clients/{client}/paws"), json!({ "paws": 1 })).await;
    let paw_entry = paw.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let made = staff(Method::POST, "/rewards".into(), json!({ "name": "Table reward", "paws_needed": 2 })).await;
    let reward = made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let body = json!({ "reward_id": reward });
    let (status, asked) = app.app_call(Method::POST, "/rewards/requests", Some(owner), Some(body)).await;
    assert_eq!(status, 201, "{asked}");
    let (status, order) = app.app_call(Method::POST, "/orders", Some(owner), Some(json!({ "details": "Food" }))).await;
    assert_eq!(status, 201, "{order}");
    let uploaded = app
        .client
        .post(app.url("/api/app/v1/selfies"))
        .bearer_auth(owner)
        .header("content-type", "image/png")
        .body(tiny_png())
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let template = staff(Method::POST, "/plan-templates".into(), plan_template_draft("TABLE")).await;
    assert_eq!(template.status(), 201);
    let enrol_template = staff(Method::POST, "/plan-templates".into(), plan_template_draft("ENROL")).await;
    let enrol_template = enrol_template.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let change_template = staff(Method::POST, "/plan-templates".into(), plan_template_draft("CHANGE")).await;
    let change_template = change_template.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.get_json(&format!("/api/dashboard/v1/clients/{client}"), admin).await;
    let pet = |name: &str| {
        let pets = listed["pets"].as_array().unwrap();
        pets.iter().find(|p| p["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (mut plans, mut agreements) = (Vec::new(), Vec::new());
    for name in ["Tabby", "Tiger"] {
        let body = json!({ "pet_id": pet(name), "template_id": enrol_template, "skip_payment_method": true });
        let enrolled = staff(Method::POST, format!("/clients/{client}/plans"), body).await;
        assert_eq!(enrolled.status(), 201);
        let enrolled = enrolled.json::<Value>().await.unwrap();
        plans.push(enrolled["id"].as_str().unwrap().to_owned());
        agreements.push(enrolled["agreements"][0]["id"].as_str().unwrap().to_owned());
    }
    let note = staff(Method::POST, format!("/plans/{}/notes", plans[0]), json!({ "body": "Table note" })).await;
    assert_eq!(note.status(), 201);
    let (_, plan) = app.get_json(&format!("/api/dashboard/v1/plans/{}", plans[0]), admin).await;
    let payment = plan["payments"][0]["id"].as_str().unwrap().to_owned();
    let (setup_intent, card) = crate::payments::save_card(app, stripe, admin, client, "pm_card_visa").await;
    Household {
        card: card["card"]["id"].as_str().unwrap().to_owned(),
        setup_intent,
        payment,
        plan_note: note.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned(),
        change_template,
        cancel_plan: plans.pop().unwrap(),
        plan: plans.pop().unwrap(),
        agreement: agreements.swap_remove(0),
        enrol_template,
        plan_template: template.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned(),
        paw_entry,
        reward_request: asked["id"].as_str().unwrap().to_owned(),
        reward,
        request: order["id"].as_str().unwrap().to_owned(),
        selfie: uploaded.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned(),
    }
}

/// A plan template the table writes, with one item.
fn plan_template_draft(code: &str) -> Value {
    json!({
        "code": code, "name": "Table Plan", "monthly_price_cents": 2_500, "paid_in_full_price_cents": 27_000,
        "agreement_text": "This plan is not insurance.",
        "items": [{ "description": "Exam", "code": "WP100", "retail_price_cents": 6_000 }]
    })
}

async fn call(app: &TestApp, token: &str, (method, path, body): (Method, String, Option<Value>)) -> reqwest::Response {
    let mut builder = app.client.request(method, app.url(&format!("/api/dashboard/v1{path}"))).bearer_auth(token);
    match body {
        Some(Value::String(marker)) if marker == PICTURE => {
            builder = builder.header("content-type", "image/png").body(tiny_png());
        }
        Some(body) => builder = builder.json(&body),
        None => {}
    }
    builder.send().await.unwrap()
}

#[tokio::test]
async fn every_dashboard_operation_allows_exactly_the_levels_in_the_table() {
    let stripe = FakeStripe::start().await;
    let app = spawn_with_stripe(&stripe).await;
    let fixture = app.practice("maple-vets").await;
    let spec: Value =
        app.client.get(app.url("/api/dashboard/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut documented = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            documented.push(operation["operationId"].as_str().unwrap().to_owned());
        }
    }
    for id in &documented {
        assert!(OPERATIONS.iter().any(|(op, _)| op == id), "operation {id} has no entry in the permission table");
    }
    let (_, deliveries) = app.get_json("/api/dashboard/v1/deliveries", &app.login("maple-vets", "admin").await).await;
    let delivery = deliveries["items"][0]["id"].as_str().unwrap().to_owned();
    let now = app.clock_now();
    let sync_key = app.sync_key(&fixture.practice).await;
    let batch = json!({
        "clients": [{ "pms_id": "T1", "updated_at": now.to_rfc3339(), "last_name": "Table", "email": "table@example.com", "last_transaction_on": now.date_naive() }],
        "pets": [
            { "pms_id": "TP1", "updated_at": now.to_rfc3339(), "client_pms_id": "T1", "name": "Tabby" },
            { "pms_id": "TP2", "updated_at": now.to_rfc3339(), "client_pms_id": "T1", "name": "Tiger" }
        ]
    });
    assert_eq!(app.sync(&sync_key, &batch).await.0, 200);
    let owner = app.sign_up("maple-vets", "table@example.com").await["access_token"].as_str().unwrap().to_owned();
    app.verify_owner("table@example.com").await;
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", &app.login("maple-vets", "admin").await).await;
    let client = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let pet = listed["items"][0]["pets"][0]["id"].as_str().unwrap().to_owned();
    let admin = app.login("maple-vets", "admin").await;
    let started = app
        .client
        .post(app.url(&format!("/api/dashboard/v1/clients/{client}/conversation")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let conversation = started.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let uploaded = call(
        &app,
        &admin,
        (Method::POST, format!("/conversations/{conversation}/attachments"), Some(Value::String(PICTURE.into()))),
    )
    .await;
    let attachment = uploaded.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let household = household_records(&app, &stripe, &admin, &owner, &client).await;

    let mut n = 0;
    for level in SecurityLevel::ALL {
        let caller = format!("caller-{}", level.as_str());
        app.staff(&fixture.practice, &caller, level).await;
        for (operation, minimum) in OPERATIONS {
            let Some(minimum) = minimum else { continue };
            if matches!(
                *operation,
                "logout" | "changeMyPassword" | "beginTwoFactor" | "confirmTwoFactor" | "disableTwoFactor"
            ) {
                continue; // they change the caller's own login: tested on their own
            }
            n += 1;
            let target = app.staff(&fixture.practice, &format!("target{n}"), SecurityLevel::Staff).await;
            let key = petbridge_domain::sync::create_key(
                &app.platform,
                petbridge_domain::Scope { practice_id: fixture.practice.id },
                &petbridge_domain::Actor::system("test"),
                &petbridge_domain::Origin::default(),
                "table",
            )
            .await
            .unwrap()
            .key
            .id
            .to_string();
            let ids = Ids {
                target: target.to_string(),
                delivery: delivery.clone(),
                client: client.clone(),
                pet: pet.clone(),
                key,
                conversation: conversation.clone(),
                attachment: attachment.clone(),
                household: household.clone(),
            };
            let token = app.login("maple-vets", &caller).await;
            let response = call(&app, &token, request(operation, &ids, n)).await;
            let status = response.status().as_u16();
            let allowed = level >= *minimum;
            if allowed {
                assert!(
                    status < 400
                        || (*operation == "getStaffPicture" && status == 404)
                        // Once a month: the second level to try meets the first one's run.
                        || (*operation == "reinviteAllClients" && status == 409)
                        // Once only: the first level to try took the paw back or decided.
                        || (matches!(*operation, "oopsPaw" | "decideRewardRequest") && status == 409)
                        // One plan in progress per pet: the table's pet has one.
                        || (*operation == "enrolPet" && status == 409)
                        // The first level to try held, cancelled or changed the plan already.
                        || (matches!(*operation, "holdPlan" | "cancelPlan" | "renewPlan") && status == 409)
                        // The table's plan has started: activating it is refused, not forbidden.
                        || (*operation == "activatePlan" && status == 409)
                        || (*operation == "changePlan" && status == 422),
                    "{} calling {operation}: {status} {}",
                    level.as_str(),
                    response.text().await.unwrap()
                );
            } else {
                assert_eq!(status, 403, "{} calling {operation}", level.as_str());
                assert_eq!(response.json::<Value>().await.unwrap()["code"], "forbidden");
            }
        }
        let token = app.login("maple-vets", &caller).await;
        assert_eq!(call(&app, &token, request("logout", &ids_none(), 0)).await.status(), 204);
    }
}

/// Every action a dashboard page can take is a staff API operation (so the
/// table above covers it), and no page form posts anywhere else but the
/// sign-in cookie flows and the owners' email-link pages.
#[tokio::test]
async fn every_page_action_is_a_documented_staff_operation() {
    let app = spawn_app().await;
    let spec: Value =
        app.client.get(app.url("/api/dashboard/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    // "PATCH /users/{id}" for each operation, path parameters as one shape.
    let shape = |path: &str| -> String {
        path.split('/')
            .map(|part| if part.starts_with('{') || part.starts_with(':') { "{}" } else { part })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push(format!("{} {}", method.to_uppercase(), shape(path)));
        }
    }
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dashboard/templates");
    let mut actions = 0;
    for entry in std::fs::read_dir(&templates).unwrap() {
        let path = entry.unwrap().path();
        let html = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (at, _) in html.match_indices("data-api=\"") {
            let target = html[at + 10..].split('"').next().unwrap();
            // "{% if … %}enable{% else %}disable{% endif %}" is two actions; a
            // template expression or a form field in the path is a path parameter.
            let mut variants = vec![target.to_owned()];
            while let Some(at) = variants.iter().position(|v| v.contains("{% if")) {
                let v = variants.remove(at);
                let start = v.find("{% if").unwrap();
                let open_end = v[start..].find("%}").unwrap() + start + 2;
                let (choice, end) = v[open_end..].split_once("{% endif %}").unwrap();
                let (yes, no) = choice.split_once("{% else %}").unwrap_or((choice, ""));
                for pick in [yes, no] {
                    variants.push(format!("{}{pick}{end}", &v[..start]));
                }
            }
            for variant in variants {
                let mut plain = String::new();
                let mut rest = variant.as_str();
                while let Some(open) = rest.find('{') {
                    plain.push_str(&rest[..open]);
                    let close = if rest[open..].starts_with("{{") {
                        rest.find("}}").unwrap() + 2
                    } else {
                        rest.find('}').unwrap() + 1
                    };
                    plain.push_str("{}");
                    rest = &rest[close..];
                }
                plain.push_str(rest);
                let (method, path) = plain.split_once(' ').unwrap();
                let wanted = format!("{method} {}", shape(path));
                assert!(
                    operations.contains(&wanted),
                    "{name}: data-api=\"{target}\" is no staff API operation ({wanted})"
                );
            }
            actions += 1;
        }
        for (at, _) in html.match_indices("<form method=\"post\"") {
            let form = html[at..].split('>').next().unwrap();
            let allowed = [
                "action=\"/logout\"",
                "action=\"/login\"",
                "action=\"/login/code\"",
                // The owners' signed-link pages, outside the staff API.
                "action=\"/preferences/",
                "action=\"/pay/",
            ];
            assert!(
                allowed.iter().any(|a| form.contains(a)) || name == "owner_link.html",
                "{name} posts to a page handler: {form}"
            );
        }
    }
    assert!(actions > 20, "found only {actions} page actions");
}

async fn activity(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let (status, page) = app.get_json(&format!("/api/dashboard/v1/activity?{query}"), admin).await;
    assert_eq!(status, 200);
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_manager_override_lets_staff_do_one_thing_and_is_logged_with_both_names() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "frontdesk", SecurityLevel::Staff).await;
    app.staff(&fixture.practice, "manager", SecurityLevel::Manager).await;
    app.staff(&fixture.practice, "othertech", SecurityLevel::Staff).await;
    let staff_token = app.login("maple-vets", "frontdesk").await;
    let url = app.url("/api/dashboard/v1/reports/delivery-volumes");

    let response = app.client.get(&url).bearer_auth(&staff_token).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "forbidden");

    let with = |user: &str, password: &str| {
        app.client
            .get(&url)
            .bearer_auth(&staff_token)
            .header("x-override-username", user)
            .header("x-override-password", password)
    };
    let response = with("manager", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["rows"][0]["channel"], "email", "the account emails count: {report}");

    assert_eq!(with("manager", "not the password").send().await.unwrap().status(), 403);
    assert_eq!(with("othertech", PASSWORD).send().await.unwrap().status(), 403, "a colleague without the permission");

    let admin = app.login("maple-vets", "admin").await;
    let overrides = activity(&app, &admin, "action=auth.override").await;
    let approved: Vec<_> = overrides.iter().filter(|e| e["action"] == "auth.override").collect();
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["actor"], "frontdesk");
    assert_eq!(approved[0]["approver"], "manager");
    assert_eq!(approved[0]["detail"]["permission"], "reports.most");
    assert_eq!(approved[0]["request_id"], request_id.as_str(), "the log finds the request");
    assert_eq!(overrides.iter().filter(|e| e["action"] == "auth.override_refused").count(), 2);
    let by_manager = activity(&app, &admin, "actor=manager").await;
    assert!(by_manager.iter().any(|e| e["action"] == "auth.override"), "filtering by approver finds it");
}

#[tokio::test]
async fn five_failures_lock_an_account_until_an_administrator_unlocks_it() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let vet = app.staff(&fixture.practice, "drsmith", SecurityLevel::Staff).await;
    let earlier = app.login("maple-vets", "drsmith").await;

    for _ in 0..5 {
        assert_eq!(app.login_attempt("maple-vets", "drsmith", "wrong wrong wrong").await.0, 401);
    }
    assert_eq!(
        app.login_attempt("maple-vets", "drsmith", PASSWORD).await.0,
        401,
        "locked: the right password no longer works"
    );
    assert_eq!(app.get_json("/api/dashboard/v1/me", &earlier).await.0, 401, "locking ended the open session");

    let admin = app.login("maple-vets", "admin").await;
    let (_, users) = app.get_json("/api/dashboard/v1/users", &admin).await;
    let names: Vec<_> = users.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "alphabetical by user name");
    let row = users.as_array().unwrap().iter().find(|u| u["username"] == "drsmith").unwrap();
    assert_eq!(row["locked"], true);
    assert_eq!(row["failed_login_attempts"], 6);

    let response = app
        .client
        .post(app.url(&format!("/api/dashboard/v1/users/{vet}/unlock")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["locked"], false);
    assert_eq!(app.login_attempt("maple-vets", "drsmith", PASSWORD).await.0, 200);

    // Two days later the failures no longer count.
    app.clock.advance(chrono::Duration::hours(49));
    let admin = app.login("maple-vets", "admin").await;
    let (_, users) = app.get_json("/api/dashboard/v1/users", &admin).await;
    let row = users.as_array().unwrap().iter().find(|u| u["username"] == "drsmith").unwrap();
    assert_eq!(row["failed_login_attempts"], 0);

    let actions: Vec<String> = activity(&app, &admin, "limit=200")
        .await
        .iter()
        .filter(|e| e["target_id"] == vet.to_string())
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for expected in ["auth.login_failed", "staff.lock", "staff.unlock", "auth.login"] {
        assert!(actions.iter().any(|a| a == expected), "{expected} in {actions:?}");
    }

    let csv = app
        .client
        .get(app.url("/api/dashboard/v1/activity/export?action=staff."))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("occurred_at,actor,approver,action"), "{csv}");
    assert!(csv.contains("staff.lock") && csv.contains("staff.unlock") && !csv.contains("auth.login"), "{csv}");
}

#[tokio::test]
async fn one_address_is_throttled_before_it_can_lock_every_account() {
    let database = std::sync::Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    settings.sessions.login_attempts_per_minute = 3;
    let app = spawn_with(settings, database).await;
    app.practice("maple-vets").await;
    for user in ["a-user", "b-user", "c-user"] {
        assert_eq!(app.login_attempt("maple-vets", user, "guess guess guess").await.0, 401);
    }
    let response = app
        .client
        .post(app.url("/api/dashboard/v1/auth/login"))
        .json(&json!({ "practice": "maple-vets", "username": "d-user", "password": "guess" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "too_many_login_attempts");
}

#[tokio::test]
async fn changing_ones_password_checks_it_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "drsmith", SecurityLevel::Staff).await;
    let here = app.login("maple-vets", "drsmith").await;
    let elsewhere = app.login("maple-vets", "drsmith").await;
    let change = |current: &str, new: &str| {
        app.client
            .post(app.url("/api/dashboard/v1/me/password"))
            .bearer_auth(&here)
            .json(&json!({ "current_password": current, "new_password": new }))
    };

    let response = change("not it", "lantern meadow copper violin").send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "wrong_password");
    for weak in ["password123456", "drsmith-is-great", "short"] {
        let response = change(PASSWORD, weak).send().await.unwrap();
        assert_eq!(response.status(), 422, "{weak}");
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "weak_password", "{weak}");
    }
    assert_eq!(app.get_json("/api/dashboard/v1/me", &elsewhere).await.0, 200, "nothing changed yet");

    assert_eq!(change(PASSWORD, "lantern meadow copper violin").send().await.unwrap().status(), 204);
    assert_eq!(app.get_json("/api/dashboard/v1/me", &here).await.0, 200, "this session goes on");
    assert_eq!(app.get_json("/api/dashboard/v1/me", &elsewhere).await.0, 401, "the other one ended");
    assert_eq!(app.login_attempt("maple-vets", "drsmith", PASSWORD).await.0, 401);
    assert_eq!(app.login_attempt("maple-vets", "drsmith", "lantern meadow copper violin").await.0, 200);
}
