use std::time::Duration;

use bytes::Bytes;
use petbridge_tests::{services::require_redis, spawn_app};

#[tokio::test]
async fn the_bus_carries_events_between_two_server_instances() {
    let Some(_) = require_redis() else { return };
    let first = spawn_app().await;
    let second = first.second_instance().await;

    let mut on_second = second.platform.bus.subscribe("practice:demo", petbridge_domain::ports::bus::BUSY_TOPIC);
    let mut on_first = first.platform.bus.subscribe("practice:demo", petbridge_domain::ports::bus::BUSY_TOPIC);
    first.platform.bus.publish("practice:demo", Bytes::from_static(b"hello from one")).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), on_second.recv()).await.expect("delivered").unwrap();
    assert_eq!(got, Bytes::from_static(b"hello from one"));
    let echoed = tokio::time::timeout(Duration::from_secs(5), on_first.recv()).await.expect("delivered").unwrap();
    assert_eq!(echoed, Bytes::from_static(b"hello from one"), "the sender's own instance hears it once");

    // Another deployment on the same Redis hears nothing.
    let other = spawn_app().await;
    let mut elsewhere = other.platform.bus.subscribe("practice:demo", petbridge_domain::ports::bus::BUSY_TOPIC);
    second.platform.bus.publish("practice:demo", Bytes::from_static(b"two")).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), on_first.recv()).await.expect("delivered").unwrap();
    assert_eq!(got, Bytes::from_static(b"two"));
    assert!(elsewhere.try_recv().is_err(), "prefixes keep deployments apart");
}

#[tokio::test]
async fn a_logout_on_one_instance_ends_the_session_on_the_other_at_once() {
    let Some(_) = require_redis() else { return };
    let first = spawn_app().await;
    let second = first.second_instance().await;
    first.practice("maple-vets").await;

    let token = first.login("maple-vets", "admin").await;
    assert_eq!(second.get_json("/api/dashboard/v1/me", &token).await.0, 200, "the second instance now holds a copy");
    let response =
        first.client.post(first.url("/api/dashboard/v1/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    // The invalidation travels over Redis; wait for it by watching the answer, within a bound.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _) = second.get_json("/api/dashboard/v1/me", &token).await;
        if status == 401 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the second instance still accepts a logged-out session");
        tokio::task::yield_now().await;
    }
}
