use std::time::Duration;

use petbridge_domain::kernel::permissions::SecurityLevel;
use petbridge_tests::{spawn_app, ws::WsClient};

#[tokio::test]
async fn the_dashboard_socket_streams_the_practices_delivery_updates_only() {
    let app = spawn_app().await;
    let maple = app.practice("maple-vets").await;
    app.practice("birch-animal-care").await;
    let maple_session = app.page_login("maple-vets", "admin").await;
    let birch_session = app.page_login("birch-animal-care", "admin").await;

    let mut maple_socket = app.dashboard_socket(&maple_session).await;
    let hello = maple_socket.next_json().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["v"], 1);
    let mut birch_socket = app.dashboard_socket(&birch_session).await;
    assert_eq!(birch_socket.next_json().await["type"], "hello");
    app.deliver_all().await; // the two admins' account emails

    let jdoe = app.staff(&maple.practice, "jdoe", SecurityLevel::Staff).await;
    assert_ne!(jdoe, uuid::Uuid::nil());
    assert_eq!(app.deliver_all().await.sent, 1);

    // Skip the updates of the admins' emails; find jdoe's.
    let token = app.login("maple-vets", "admin").await;
    let (_, page) = app.get_json("/api/dashboard/v1/deliveries", &token).await;
    let jdoe_delivery =
        page["items"].as_array().unwrap().iter().find(|d| d["recipient"] == "jdoe@maple-vets.test").unwrap()["id"]
            .clone();
    'heard: loop {
        let event = maple_socket.next_json().await;
        assert_eq!(event["type"], "deliveries.updated");
        for delivery in event["deliveries"].as_array().unwrap() {
            if delivery["delivery_id"] == jdoe_delivery {
                assert_eq!(delivery["status"], "sent");
                assert_eq!(delivery["attempts"], 1);
                break 'heard;
            }
        }
    }
    // Birch heard only about its own admin's email.
    let birch_event = birch_socket.next_json().await;
    assert_eq!(birch_event["deliveries"].as_array().unwrap().len(), 1);
    assert_ne!(birch_event["deliveries"][0]["delivery_id"], jdoe_delivery);
    assert!(birch_socket.try_next_json(Duration::from_millis(300)).await.is_none(), "nothing of Maple's reaches Birch");
    maple_socket.close().await;
}

#[tokio::test]
async fn the_dashboard_socket_needs_a_session_and_this_sites_origin() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let session = app.page_login("maple-vets", "admin").await;
    let url = format!("ws://{}/ws/dashboard", app.address);

    let foreign = WsClient::connect(
        &url,
        &[("cookie", format!("pb_session={session}")), ("origin", "https://evil.example".into())],
    )
    .await;
    assert!(foreign.is_err(), "another site's page is refused");
    let anonymous = WsClient::connect(&url, &[("origin", app.base.clone())]).await;
    assert!(anonymous.is_err(), "no session, no socket");
    let forged = WsClient::connect(&url, &[("cookie", "pb_session=forged".into()), ("origin", app.base.clone())]).await;
    assert!(forged.is_err());
}
