use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{
    pictures::{contains, jpeg_with_gps, png},
    spawn_app,
};
use serde_json::Value;

#[tokio::test]
async fn profile_pictures_are_checked_resized_and_kept_in_the_practice() {
    let app = spawn_app().await;
    let maple = app.practice("maple-vets").await;
    app.practice("birch-animal-care").await;
    let vet = app.staff(&maple.practice, "drsmith", SecurityLevel::Staff).await;
    let token = app.login("maple-vets", "drsmith").await;
    let put = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .put(app.url("/api/dashboard/v1/me/picture"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    // Not an image, whatever it claims.
    let response = put(b"<svg>not what it says</svg>".to_vec(), "image/png").await.unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "unsupported_media_type");
    let response = put(png(10, 10), "image/gif").await.unwrap();
    assert_eq!(response.status(), 415, "a type this endpoint does not take");

    // A real one, larger than the JSON limit allows.
    let big = png(1000, 800);
    assert!(big.len() > app.settings.server.body_limit_bytes, "{} bytes", big.len());
    assert_eq!(put(big, "image/png").await.unwrap().status(), 204);

    let response = app
        .client
        .get(app.url(&format!("/api/dashboard/v1/staff/{vet}/picture")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let picture = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (256, 256));
    let (_, me) = app.get_json("/api/dashboard/v1/me", &token).await;
    assert_eq!(me["staff"]["has_picture"], true);

    // Another practice cannot see it.
    let birch = app.login("birch-animal-care", "admin").await;
    let response = app
        .client
        .get(app.url(&format!("/api/dashboard/v1/staff/{vet}/picture")))
        .bearer_auth(&birch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn chat_pictures_lose_their_gps_data_and_only_the_conversation_reaches_them() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let sam = app.verified_owner("maple-vets", "sam@example.com").await;
    let upload = |token: &str, bytes: Vec<u8>, content_type: &str| {
        app.client
            .post(app.url("/api/app/v1/conversation/attachments"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
    };
    let with_gps = jpeg_with_gps();
    assert!(contains(&with_gps, b"GPSMARKER"), "the fixture carries its position");

    // Pat sends a photo; it is stored re-encoded, without the EXIF block.
    let response = upload(&pat, with_gps, "image/jpeg").await.unwrap();
    assert_eq!(response.status(), 201);
    let stored: Value = response.json().await.unwrap();
    assert_eq!((stored["width"].clone(), stored["height"].clone()), (640.into(), 480.into()));
    let attachment = stored["id"].as_str().unwrap().to_owned();
    let send = serde_json::json!({ "client_message_id": "p-1", "body": "", "attachment_id": attachment });
    let (status, message) = app.app_call(reqwest::Method::POST, "/conversation/messages", Some(&pat), Some(send)).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["attachment_id"], attachment.as_str());
    let conversation = message["conversation_id"].as_str().unwrap().to_owned();

    let fetched = app
        .client
        .get(app.url(&format!("/api/app/v1/conversation/attachments/{attachment}")))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/jpeg");
    let bytes = fetched.bytes().await.unwrap();
    assert!(!contains(&bytes, b"GPSMARKER") && !contains(&bytes, b"Exif\0\0"), "no EXIF or GPS data is kept");
    assert_eq!(image::load_from_memory(&bytes).map(|p| (p.width(), p.height())).ok(), Some((640, 480)));

    // The practice sees it in the conversation.
    let maple = app.login("maple-vets", "admin").await;
    let staff_url = app.url(&format!("/api/dashboard/v1/conversations/{conversation}/attachments/{attachment}"));
    let response = app.client.get(&staff_url).bearer_auth(&maple).send().await.unwrap();
    assert_eq!(response.status(), 200);

    // Nobody else reaches it: another household, another practice.
    let response = app
        .client
        .get(app.url(&format!("/api/app/v1/conversation/attachments/{attachment}")))
        .bearer_auth(&sam)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let oak = app.login("oak-vets", "admin").await;
    let response = app.client.get(&staff_url).bearer_auth(&oak).send().await.unwrap();
    assert_eq!(response.status(), 404);
    // Sam cannot send Pat's picture in Sam's own conversation.
    let send = serde_json::json!({ "client_message_id": "s-1", "body": "look", "attachment_id": attachment });
    let (status, body) = app.app_call(reqwest::Method::POST, "/conversation/messages", Some(&sam), Some(send)).await;
    assert_eq!((status, body["code"].clone()), (422, "unknown_attachment".into()));

    // What is not a picture is refused whatever it claims to be; the
    // staff side uploads the same way.
    let response = upload(&pat, b"%PDF-1.7 not a photo".to_vec(), "image/jpeg").await.unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .client
        .post(app.url(&format!("/api/dashboard/v1/conversations/{conversation}/attachments")))
        .bearer_auth(&maple)
        .header("content-type", "image/png")
        .body(png(3000, 1000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["width"], 2048, "the longest side is bounded");
    assert!((682..=683).contains(&stored["height"].as_i64().unwrap()), "{stored}");
}
