//! The owner's household in the app and on the dashboard: loyalty paws and
//! rewards, selfies, pets, orders and appointment requests.

use petbridge_tests::{
    TestApp,
    pictures::{contains, jpeg_with_gps, png},
    spawn_app,
};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn balance(app: &TestApp, owner: &str) -> i64 {
    let (status, card) = app.app_call(Method::GET, "/rewards", Some(owner), None).await;
    assert_eq!(status, 200, "{card}");
    card["balance"].as_i64().unwrap()
}

#[tokio::test]
async fn fifty_concurrent_requests_against_paws_for_three_rewards_get_exactly_three() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let household = app.owner_account("pat@example.com").await.client_id;
    let admin = app.login("maple-vets", "admin").await;

    // Verifying the account earned the download-the-app paw, once.
    assert_eq!(balance(&app, &pat).await, 1);
    let (_, card) = app.app_call(Method::GET, "/rewards", Some(&pat), None).await;
    assert_eq!(card["history"][0]["reason"], "Downloaded the app");

    let (status, reward) = app
        .staff_call(&admin, Method::POST, "/rewards", Some(json!({ "name": "Free nail trim", "paws_needed": 5 })))
        .await;
    assert_eq!(status, 201, "{reward}");
    let reward_id = reward["id"].as_str().unwrap().to_owned();
    let (status, added) =
        app.staff_call(&admin, Method::POST, &format!("/clients/{household}/paws"), Some(json!({ "paws": 14 }))).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(balance(&app, &pat).await, 15);

    // 50 requests at once, each with its own id: the balance allows 3.
    let attempts = (0..50).map(|_| {
        let body = json!({ "reward_id": reward_id, "id": Uuid::new_v4() });
        app.app_call(Method::POST, "/rewards/requests", Some(&pat), Some(body))
    });
    let answers = futures_util::future::join_all(attempts).await;
    let made: Vec<&Value> = answers.iter().filter(|(status, _)| *status == 201).map(|(_, body)| body).collect();
    let refused = answers.iter().filter(|(status, body)| *status == 409 && body["code"] == "not_enough_paws").count();
    assert_eq!((made.len(), refused), (3, 47), "{answers:?}");
    assert_eq!(balance(&app, &pat).await, 0, "never below zero");
    let (_, card) = app.app_call(Method::GET, "/rewards", Some(&pat), None).await;
    let redeemed = card["history"].as_array().unwrap().iter().filter(|e| e["kind"] == "redeemed").count();
    assert_eq!(redeemed, 3, "one ledger entry per request");
    assert_eq!(card["rewards"][0]["affordable"], false);

    // A retried request (same id) returns the original and spends nothing.
    let first = made[0]["id"].as_str().unwrap().to_owned();
    let retry = json!({ "reward_id": reward_id, "id": first });
    let (status, again) = app.app_call(Method::POST, "/rewards/requests", Some(&pat), Some(retry)).await;
    assert_eq!((status, again["id"].as_str()), (200, Some(first.as_str())));

    // Staff decline one (its paws come back and the owner hears of it) and approve another.
    let decide = |id: String, decision: &'static str| {
        let body = Some(json!({ "decision": decision }));
        app.staff_call(&admin, Method::POST, format!("/reward-requests/{id}/decision"), body)
    };
    let (status, declined) = decide(first.clone(), "decline").await;
    assert_eq!((status, declined["status"].as_str()), (200, Some("declined")), "{declined}");
    assert_eq!(balance(&app, &pat).await, 5);
    let (status, again) = decide(first.clone(), "approve").await;
    assert_eq!((status, again["code"].as_str()), (409, Some("already_decided")));
    let second = made[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(second, "approve").await.1["status"], "approved");
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    let texts: Vec<&str> = inbox["items"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.contains("declined") && t.contains("5 paws are back")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("approved: Free nail trim")), "{texts:?}");

    let (_, waiting) = app.staff_call(&admin, Method::GET, "/reward-requests", None).await;
    assert_eq!(
        waiting.as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [made[2]["id"].clone()]
    );

    // Oops takes back a paw given by mistake, once; not paws already spent.
    let (_, loyalty) = app.staff_call(&admin, Method::GET, &format!("/clients/{household}/loyalty"), None).await;
    let fourteen = loyalty["history"].as_array().unwrap().iter().find(|e| e["paws"] == 14).unwrap()["id"].clone();
    let (status, body) =
        app.staff_call(&admin, Method::POST, &format!("/paw-entries/{}/oops", fourteen.as_str().unwrap()), None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("paws_already_spent")));
    let (_, mistake) =
        app.staff_call(&admin, Method::POST, &format!("/clients/{household}/paws"), Some(json!({}))).await;
    assert_eq!(mistake["paws"], 1);
    let oops = format!("/paw-entries/{}/oops", mistake["id"].as_str().unwrap());
    let (status, reversal) = app.staff_call(&admin, Method::POST, &oops, None).await;
    assert_eq!((status, reversal["paws"].as_i64()), (201, Some(-1)), "{reversal}");
    assert_eq!(app.staff_call(&admin, Method::POST, &oops, None).await.1["code"], "already_reversed");
    assert_eq!(balance(&app, &pat).await, 5);

    // Manually Reward, named by staff; and bad input changes nothing.
    let give = |body: Value| app.staff_call(&admin, Method::POST, format!("/clients/{household}/rewards"), Some(body));
    let (status, given) = give(json!({ "name": "Bag of treats", "paws": 2 })).await;
    assert_eq!((status, given["status"].as_str()), (201, Some("approved")), "{given}");
    assert_eq!(give(json!({ "name": "Too dear", "paws": 99 })).await.1["code"], "not_enough_paws");
    assert_eq!(give(json!({ "paws": 1 })).await.0, 422);
    let (status, body) =
        app.staff_call(&admin, Method::POST, &format!("/clients/{household}/paws"), Some(json!({ "paws": 0 }))).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_paws")));
    assert_eq!(balance(&app, &pat).await, 3);

    // The same request sent ten times at once (an app retrying on a bad
    // network) is made once.
    let (_, treat) =
        app.staff_call(&admin, Method::POST, "/rewards", Some(json!({ "name": "Treat", "paws_needed": 1 }))).await;
    let once = json!({ "reward_id": treat["id"], "id": Uuid::new_v4() });
    let retries = (0..10).map(|_| app.app_call(Method::POST, "/rewards/requests", Some(&pat), Some(once.clone())));
    let mut statuses: Vec<u16> = futures_util::future::join_all(retries).await.into_iter().map(|(s, _)| s).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(balance(&app, &pat).await, 2);

    // Another household sees only its own card; another practice reaches nothing.
    let sam = app.verified_owner("maple-vets", "sam@example.com").await;
    let (_, card) = app.app_call(Method::GET, "/rewards", Some(&sam), None).await;
    assert_eq!((card["balance"].as_i64(), card["requests"].as_array().map(Vec::len)), (Some(1), Some(0)));
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.staff_call(&oak, Method::GET, &format!("/clients/{household}/loyalty"), None).await.0, 404);
    assert_eq!(app.staff_call(&oak, Method::GET, "/reward-requests", None).await.1, json!([]));
    let third = made[2]["id"].as_str().unwrap();
    let decision = Some(json!({ "decision": "approve" }));
    assert_eq!(
        app.staff_call(&oak, Method::POST, &format!("/reward-requests/{third}/decision"), decision).await.0,
        404
    );
    assert_eq!(app.staff_call(&oak, Method::POST, &format!("/clients/{household}/paws"), Some(json!({}))).await.0, 404);
    let retired =
        app.staff_call(&oak, Method::PATCH, &format!("/rewards/{reward_id}"), Some(json!({ "retired": true })));
    assert_eq!(retired.await.0, 404);
    assert_eq!(balance(&app, &pat).await, 2);
}

#[tokio::test]
async fn selfies_lose_their_gps_data_and_staff_star_them_into_the_owners_slideshow() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let sam = app.verified_owner("maple-vets", "sam@example.com").await;
    let household = app.owner_account("pat@example.com").await.client_id;
    let upload = |token: &str, bytes: Vec<u8>, content_type: &str| {
        app.client
            .post(app.url("/api/app/v1/selfies"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
    };
    let fetch = |token: &str, path: String| app.client.get(app.url(&path)).bearer_auth(token).send();

    // A file that claims to be an image but is not: 415, nothing stored.
    let response = upload(&pat, b"<html>not a photo</html>".to_vec(), "image/jpeg").await.unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "unsupported_media_type");

    let with_gps = jpeg_with_gps();
    assert!(contains(&with_gps, b"GPSMARKER"), "the fixture carries its position");
    let response = upload(&pat, with_gps, "image/jpeg").await.unwrap();
    assert_eq!(response.status(), 201);
    let selfie: Value = response.json().await.unwrap();
    let id = selfie["id"].as_str().unwrap().to_owned();
    assert_eq!((selfie["width"].as_i64(), selfie["height"].as_i64()), (Some(640), Some(480)));
    let photo = fetch(&pat, format!("/api/app/v1/selfies/{id}/photo")).await.unwrap();
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let bytes = photo.bytes().await.unwrap();
    assert!(!contains(&bytes, b"GPSMARKER") && !contains(&bytes, b"Exif\0\0"), "no EXIF or GPS data is kept");
    let thumb = fetch(&pat, format!("/api/app/v1/selfies/{id}/thumbnail")).await.unwrap().bytes().await.unwrap();
    assert_eq!(image::load_from_memory(&thumb).map(|p| (p.width(), p.height())).ok(), Some((320, 320)));
    assert_eq!(upload(&pat, png(900, 600), "image/png").await.unwrap().status(), 201);
    let (_, listed) = app.app_call(Method::GET, "/selfies", Some(&pat), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Another household reaches none of it.
    let (_, theirs) = app.app_call(Method::GET, "/selfies", Some(&sam), None).await;
    assert_eq!(theirs, json!([]));
    assert_eq!(fetch(&sam, format!("/api/app/v1/selfies/{id}/photo")).await.unwrap().status(), 404);
    assert_eq!(app.app_call(Method::DELETE, &format!("/selfies/{id}"), Some(&sam), None).await.0, 404);

    // Staff star it (the owner's slideshow shows it) and heart it.
    let admin = app.login("maple-vets", "admin").await;
    let (_, seen) = app.staff_call(&admin, Method::GET, &format!("/clients/{household}/selfies"), None).await;
    assert_eq!(seen.as_array().unwrap().len(), 2);
    let marks = Some(json!({ "starred": true, "hearted": true }));
    let (status, marked) = app.staff_call(&admin, Method::PATCH, &format!("/selfies/{id}"), marks).await;
    assert_eq!((status, marked["starred"].as_bool(), marked["hearted"].as_bool()), (200, Some(true), Some(true)));
    let (_, slideshow) = app.app_call(Method::GET, "/slideshow", Some(&pat), None).await;
    assert_eq!(slideshow.as_array().unwrap().iter().map(|s| s["id"].clone()).collect::<Vec<_>>(), [json!(id)]);
    let (_, slideshow) = app.app_call(Method::GET, "/slideshow", Some(&sam), None).await;
    assert_eq!(slideshow, json!([]));
    let oak = app.login("oak-vets", "admin").await;
    let unstar = Some(json!({ "starred": false }));
    assert_eq!(app.staff_call(&oak, Method::PATCH, &format!("/selfies/{id}"), unstar).await.0, 404);
    assert_eq!(fetch(&oak, format!("/api/dashboard/v1/selfies/{id}/photo")).await.unwrap().status(), 404);

    // A notification shows the favourite through a public signed link,
    // which stops working when the heart comes off. Staff see which selfie,
    // never the link; the owner's inbox and device get it.
    let notify =
        |body: Value| app.staff_call(&admin, Method::POST, format!("/clients/{household}/notifications"), Some(body));
    let (status, sent) = notify(json!({ "title": "Happy birthday!", "body": "Biscuit is 3", "selfie_id": id })).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!((sent["selfie_id"].as_str(), &sent["image_url"]), (Some(id.as_str()), &Value::Null));
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    let link = url::Url::parse(inbox["items"][0]["image_url"].as_str().unwrap()).unwrap();
    let (_, history) = app.staff_call(&admin, Method::GET, format!("/clients/{household}/notifications"), None).await;
    assert!(!history.to_string().contains(link.path()), "staff never see the link: {history}");
    let public = app.client.get(app.url(link.path())).send().await.unwrap();
    assert_eq!((public.status().as_u16(), public.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    assert!(!contains(&public.bytes().await.unwrap(), b"GPSMARKER"));
    let forged = link.path().replace("/media/selfies/", "/media/selfies/A");
    assert_eq!(app.client.get(app.url(&forged)).send().await.unwrap().status(), 404);
    let (_, others) = app.staff_call(&admin, Method::GET, &format!("/clients/{household}/selfies"), None).await;
    let plain = others.as_array().unwrap().iter().find(|s| s["id"] != json!(id)).unwrap()["id"].clone();
    let (status, body) = notify(json!({ "title": "Hi", "body": "Look", "selfie_id": plain })).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("selfie_not_favourite")));
    let (status, body) = notify(json!({ "title": "Hi", "body": "Look", "selfie_id": Uuid::new_v4() })).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("unknown_selfie")));
    let unheart = Some(json!({ "hearted": false }));
    assert_eq!(app.staff_call(&admin, Method::PATCH, &format!("/selfies/{id}"), unheart).await.0, 200);
    assert_eq!(app.client.get(app.url(link.path())).send().await.unwrap().status(), 404);

    // The owner deletes it: gone from the list, the slideshow and storage.
    assert_eq!(app.app_call(Method::DELETE, &format!("/selfies/{id}"), Some(&pat), None).await.0, 204);
    assert_eq!(fetch(&pat, format!("/api/app/v1/selfies/{id}/photo")).await.unwrap().status(), 404);
    let (_, slideshow) = app.app_call(Method::GET, "/slideshow", Some(&pat), None).await;
    assert_eq!(slideshow, json!([]));
}

#[tokio::test]
async fn owners_keep_their_pets_and_staff_move_orders_and_appointment_requests_along() {
    let app = spawn_app().await;
    let maple = app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let key = app.sync_key(&maple.practice).await;
    let now = app.clock_now();
    let batch = json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Pat", "last_name": "Lee",
                      "email": "pat@example.com", "phone": "+13035550100", "last_transaction_on": now.date_naive() }],
        "pets": [
            { "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Biscuit", "species": "Dog" },
            { "pms_id": "P2", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Mochi", "species": "Cat" }
        ]
    });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let sam = app.verified_owner("maple-vets", "sam@example.com").await;
    let household = app.owner_account("pat@example.com").await.client_id;
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(&pat), None).await;
    let id_of = |name: &str| {
        pets.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (biscuit, mochi) = (id_of("Biscuit"), id_of("Mochi"));

    // Notes on a practice pet; its profile stays the practice's.
    let notes = Some(json!({ "notes": "Scared of the scale" }));
    let (status, pet) = app.app_call(Method::PATCH, &format!("/pets/{biscuit}"), Some(&pat), notes).await;
    assert_eq!((status, pet["notes"].as_str()), (200, Some("Scared of the scale")), "{pet}");
    let rename = Some(json!({ "name": "Bisky" }));
    let (status, body) = app.app_call(Method::PATCH, &format!("/pets/{biscuit}"), Some(&pat), rename.clone()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("managed_by_practice")));
    assert_eq!(app.app_call(Method::PATCH, &format!("/pets/{biscuit}"), Some(&sam), rename).await.0, 404);
    let (_, own) =
        app.app_call(Method::POST, "/pets", Some(&pat), Some(json!({ "name": "Pip", "species": "Bird" }))).await;
    let pip = own["id"].as_str().unwrap().to_owned();
    let (status, renamed) =
        app.app_call(Method::PATCH, &format!("/pets/{pip}"), Some(&pat), Some(json!({ "name": "Pippin" }))).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Pippin")));

    // Marked inactive in the app: the practice's Inactivated Pets list shows it.
    let why = Some(json!({ "reason": "Flew away" }));
    let (status, gone) = app.app_call(Method::POST, &format!("/pets/{pip}/inactive"), Some(&pat), why).await;
    assert_eq!((status, gone["inactive"].as_bool()), (200, Some(true)));
    let theirs = Some(json!({ "reason": "Not mine" }));
    assert_eq!(app.app_call(Method::POST, &format!("/pets/{biscuit}/inactive"), Some(&sam), theirs).await.0, 404);
    let admin = app.login("maple-vets", "admin").await;
    let (_, inactivated) = app.staff_call(&admin, Method::GET, "/inactivated-pets", None).await;
    assert_eq!(inactivated[0]["name"], "Pippin");
    assert_eq!(
        (inactivated[0]["reason"].as_str(), inactivated[0]["phone"].as_str()),
        (Some("Flew away"), Some("+13035550100"))
    );
    let (_, details) = app.staff_call(&admin, Method::GET, &format!("/clients/{household}"), None).await;
    let card = details["pets"].as_array().unwrap().iter().find(|p| p["name"] == "Pippin").unwrap();
    assert_eq!(card["owner_inactive_reason"], "Flew away");
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.staff_call(&oak, Method::GET, "/inactivated-pets", None).await.1, json!([]));

    // An order and an appointment request; a retry makes nothing twice.
    let order_id = Uuid::new_v4();
    let order = json!({ "id": order_id, "pet_id": biscuit, "details": "Apoquel 16 mg, 30 tablets" });
    let (status, placed) = app.app_call(Method::POST, "/orders", Some(&pat), Some(order.clone())).await;
    assert_eq!((status, placed["status"].as_str()), (201, Some("requested")), "{placed}");
    assert_eq!(app.app_call(Method::POST, "/orders", Some(&pat), Some(order)).await.0, 200);
    let visit = json!({ "pet_id": mochi, "reason": "Limping", "preferred_times": ["Tue morning", "Fri after 3"] });
    let (status, asked) = app.app_call(Method::POST, "/appointment-requests", Some(&pat), Some(visit)).await;
    assert_eq!((status, asked["preferred_times"][1].as_str()), (201, Some("Fri after 3")), "{asked}");
    let no_pet = json!({ "pet_id": Uuid::new_v4(), "reason": "Check-up" });
    let (status, body) = app.app_call(Method::POST, "/appointment-requests", Some(&pat), Some(no_pet)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("unknown_pet")));
    let blank = json!({ "details": "   " });
    assert_eq!(app.app_call(Method::POST, "/orders", Some(&pat), Some(blank)).await.1["code"], "invalid_details");
    let (_, theirs) = app.app_call(Method::GET, "/requests", Some(&sam), None).await;
    assert_eq!(theirs, json!([]));

    // The dashboard filters them by pet.
    let list =
        |query: String| app.staff_call(&admin, Method::GET, format!("/clients/{household}/requests{query}"), None);
    assert_eq!(list(String::new()).await.1.as_array().unwrap().len(), 2);
    let (_, of_biscuit) = list(format!("?pet_id={biscuit}")).await;
    assert_eq!(of_biscuit.as_array().unwrap().len(), 1);
    assert_eq!(
        (of_biscuit[0]["kind"].as_str(), of_biscuit[0]["next"].clone()),
        (Some("order"), json!(["accepted", "declined"]))
    );

    // Steps its kind allows, each told to the owner; the owner cannot cancel a settled one.
    let step = |status: &'static str| {
        let body = Some(json!({ "status": status, "note": "See you soon" }));
        app.staff_call(&admin, Method::PATCH, format!("/requests/{order_id}"), body)
    };
    let (status, body) = step("confirmed").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_transition")));
    assert_eq!(step("ready").await.1["code"], "invalid_transition");
    assert_eq!(step("accepted").await.1["status"], "accepted");
    assert_eq!(step("ready").await.1["status"], "ready");
    let (status, body) = app.app_call(Method::POST, &format!("/requests/{order_id}/cancel"), Some(&pat), None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("cannot_cancel")));
    assert_eq!(app.app_call(Method::POST, &format!("/requests/{order_id}/cancel"), Some(&sam), None).await.0, 404);
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    let told = inbox["items"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap());
    assert!(told.clone().any(|t| t.contains("Apoquel 16 mg, 30 tablets) is accepted")), "{inbox}");
    assert!(told.clone().any(|t| t.ends_with("is ready to pick up. See you soon")), "{inbox}");
    let (_, mine) = app.app_call(Method::GET, "/requests", Some(&pat), None).await;
    let order = mine.as_array().unwrap().iter().find(|r| r["kind"] == "order").unwrap();
    assert_eq!((order["status"].as_str(), order["practice_note"].as_str()), (Some("ready"), Some("See you soon")));
    let other = Some(json!({ "status": "completed" }));
    assert_eq!(app.staff_call(&oak, Method::PATCH, &format!("/requests/{order_id}"), other).await.0, 404);
    assert_eq!(app.staff_call(&oak, Method::GET, &format!("/clients/{household}/requests"), None).await.0, 404);

    // The owner withdraws the appointment request before it is confirmed.
    let asked_id = asked["id"].as_str().unwrap();
    let (status, cancelled) =
        app.app_call(Method::POST, &format!("/requests/{asked_id}/cancel"), Some(&pat), None).await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")));

    // Invoices earn paws by the practice's rule, once; a voided one takes them back.
    let rule = Some(json!({ "paw_per_invoiced_cents": 2500 }));
    assert_eq!(app.staff_call(&admin, Method::PATCH, "/practice/settings", rule).await.0, 200);
    let before = balance(&app, &pat).await;
    let invoices = |voided: bool, at: chrono::DateTime<chrono::Utc>| {
        json!({ "invoices": [
            { "pms_id": "I1", "updated_at": at.to_rfc3339(), "client_pms_id": "C1", "invoiced_on": now.date_naive(),
              "total": 130.0, "voided": voided },
            { "pms_id": "I0", "updated_at": at.to_rfc3339(), "client_pms_id": "C1",
              "invoiced_on": now.date_naive() - chrono::Days::new(3), "total": 500.0 }
        ]})
    };
    assert_eq!(app.sync(&key, &invoices(false, now)).await.0, 200);
    assert_eq!(app.run_jobs().await.invoice_paws.awarded, 1, "the visit before the app earns nothing");
    assert_eq!(balance(&app, &pat).await, before + 5, "130.00 at one paw per 25.00");
    let (_, card) = app.app_call(Method::GET, "/rewards", Some(&pat), None).await;
    let history = card["history"].as_array().unwrap();
    assert!(history.iter().any(|e| e["paws"] == 5 && e["reason"].as_str().unwrap().starts_with("Visit of")), "{card}");
    let again = app.run_jobs().await.invoice_paws;
    assert_eq!((again.awarded, again.reversed), (0, 0), "an invoice earns once");
    assert_eq!(app.sync(&key, &invoices(true, now + chrono::Duration::minutes(1))).await.0, 200);
    assert_eq!(app.run_jobs().await.invoice_paws.reversed, 1);
    assert_eq!(balance(&app, &pat).await, before);
    let bad = json!({ "invoices": [{ "pms_id": "I2", "updated_at": now.to_rfc3339(), "client_pms_id": "C1",
                                     "invoiced_on": now.date_naive(), "total": -5.0 }] });
    let (_, result) = app.sync(&key, &bad).await;
    assert!(result.to_string().contains("invalid_total"), "{result}");

    // Staff edit the owner's details: a new email must be verified again.
    let edit = json!({ "phone": "(303) 555-0111", "email": "pat.lee@example.com", "last_name": "Lee-Park" });
    assert_eq!(app.staff_call(&oak, Method::PATCH, &format!("/clients/{household}"), Some(edit.clone())).await.0, 404);
    let bad = json!({ "phone": "call me" });
    let (status, body) = app.staff_call(&admin, Method::PATCH, &format!("/clients/{household}"), Some(bad)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_phone")));
    let (status, edited) = app.staff_call(&admin, Method::PATCH, &format!("/clients/{household}"), Some(edit)).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!((edited["phone"].as_str(), edited["last_name"].as_str()), (Some("+13035550111"), Some("Lee-Park")));
    assert_eq!(edited["account_status"], "email_not_verified");
    let (_, me) = app.app_call(Method::GET, "/me", Some(&pat), None).await;
    assert_eq!(
        (me["email"].as_str(), me["status"].as_str()),
        (Some("pat.lee@example.com"), Some("email_not_verified"))
    );
    assert!(!app.emailed_token("pat.lee@example.com", "verify_email").await.is_empty());
}
