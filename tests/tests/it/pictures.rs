use std::io::Cursor;

use petbridge_domain::services::staff::SecurityLevel;
use petbridge_tests::spawn_app;
use serde_json::Value;

/// A PNG of noise (it does not compress, so its size is what it looks like).
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state & 0xff) as u8
    };
    let picture = image::RgbImage::from_fn(width, height, |_, _| image::Rgb([noise(), noise(), noise()]));
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

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
