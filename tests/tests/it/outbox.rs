use petbridge_domain::services::staff::SecurityLevel;
use petbridge_tests::spawn_app;

#[tokio::test]
async fn a_new_staff_account_queues_an_email_that_the_dev_provider_records() {
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "jdoe", SecurityLevel::Manager).await;
    let token = app.login("maple-vets", "admin").await;

    let (status, page) = app.get_json("/api/dashboard/v1/deliveries", &token).await;
    assert_eq!(status, 200);
    let queued: Vec<_> =
        page["items"].as_array().unwrap().iter().filter(|d| d["recipient"] == "jdoe@maple-vets.test").collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["status"], "queued");
    assert_eq!(queued[0]["channel"], "email");
    assert!(queued[0]["reason"].as_str().unwrap().contains("staff account created"));

    let outcome = app.deliver_all().await;
    assert_eq!(outcome.sent, 2, "the admin's and jdoe's account emails");
    assert_eq!(app.deliver_all().await.sent, 0, "nothing is sent twice");

    let (_, page) = app.get_json("/api/dashboard/v1/deliveries", &token).await;
    for delivery in page["items"].as_array().unwrap() {
        assert_eq!(delivery["status"], "sent");
        assert_eq!(delivery["provider"], "dev");
        assert_eq!(delivery["attempts"], 1);
        assert!(delivery["sent_at"].is_string());
    }

    // Paging: one per page, newest first, then the end.
    let (_, first) = app.get_json("/api/dashboard/v1/deliveries?limit=1", &token).await;
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    let (_, second) = app.get_json(&format!("/api/dashboard/v1/deliveries?limit=1&after={next}"), &token).await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert!(second["next"].is_null());
}
