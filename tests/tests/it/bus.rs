use std::time::Duration;

use bytes::Bytes;
use petbridge_tests::{services::require_redis, spawn_app, spawn_with, test_settings};

#[tokio::test]
async fn the_bus_carries_events_between_two_server_instances() {
    let Some(_) = require_redis() else { return };
    let first = spawn_app().await;
    let mut settings = test_settings(&first.database()).await;
    // Same deployment: same database and key prefix.
    settings.redis.key_prefix = first.settings.redis.key_prefix.clone();
    let second = spawn_with(settings, first.database()).await;

    let mut on_second = second.platform.bus.subscribe("practice:demo");
    let mut on_first = first.platform.bus.subscribe("practice:demo");
    first.platform.bus.publish("practice:demo", Bytes::from_static(b"hello from one")).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), on_second.recv()).await.expect("delivered").unwrap();
    assert_eq!(got, Bytes::from_static(b"hello from one"));
    let echoed = tokio::time::timeout(Duration::from_secs(5), on_first.recv()).await.expect("delivered").unwrap();
    assert_eq!(echoed, Bytes::from_static(b"hello from one"), "the sender's own instance hears it once");

    // Another deployment on the same Redis hears nothing.
    let other = spawn_app().await;
    let mut elsewhere = other.platform.bus.subscribe("practice:demo");
    second.platform.bus.publish("practice:demo", Bytes::from_static(b"two")).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), on_first.recv()).await.expect("delivered").unwrap();
    assert_eq!(got, Bytes::from_static(b"two"));
    assert!(elsewhere.try_recv().is_err(), "prefixes keep deployments apart");
}
