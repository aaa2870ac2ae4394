use std::time::{Duration, Instant};

use petbridge::{Application, Options};
use petbridge_tests::{TestDatabase, init, test_settings};
use secrecy::SecretString;

#[tokio::test]
async fn a_bad_database_url_fails_fast_naming_what_was_tried_without_the_password() {
    init();
    let database = TestDatabase::create().await;
    let mut settings = test_settings(&database).await;
    settings.database.connect_timeout_seconds = 2;

    // Nothing listens on port 1.
    settings.database.url = SecretString::from("postgres://petbridge:s3cret-pw@127.0.0.1:1/petbridge");
    let started = Instant::now();
    let error = Application::build(settings.clone(), Options::default()).await.err().expect("the build fails");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let message = format!("{error:#}");
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(message.contains("DATABASE_URL"), "says what to fix: {message}");
    assert!(!message.contains("s3cret-pw"), "{message}");

    // Not a URL of a known database at all.
    settings.database.url = SecretString::from("mysqlx://nowhere");
    let message = format!("{:#}", Application::build(settings.clone(), Options::default()).await.err().expect("fails"));
    assert!(message.contains("DATABASE_URL"), "{message}");

    // An unreachable Redis fails the same way.
    settings.database.url = SecretString::from(database.url.clone());
    settings.redis.url = Some(SecretString::from("redis://:redis-pw@127.0.0.1:1"));
    let started = Instant::now();
    let message = format!("{:#}", Application::build(settings, Options::default()).await.err().expect("fails"));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(message.contains("REDIS_URL") && message.contains("127.0.0.1:1"), "{message}");
    assert!(!message.contains("redis-pw"), "{message}");
}

#[tokio::test]
async fn the_first_start_creates_the_demo_practice_and_later_starts_reuse_it() {
    init();
    let database = std::sync::Arc::new(TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    settings.bootstrap.demo_practice = true;

    let app = petbridge_tests::spawn_with(settings.clone(), database.clone()).await;
    let login = app.first_login.clone().expect("the first start prints how to log in");
    assert_eq!(login.practice_code, "demo-animal-hospital");
    assert_eq!(login.practice_name, "Demo Animal Hospital");
    assert!(!format!("{login:?}").contains(&login.password), "Debug hides the password");
    assert_eq!(log_in(&app, &login).await, 200);
    drop(app);

    let again = petbridge_tests::spawn_with(settings, database).await;
    assert!(again.first_login.is_none(), "a second start reuses the data");
    assert_eq!(log_in(&again, &login).await, 200, "the first password still works");
}

async fn log_in(app: &petbridge_tests::TestApp, login: &petbridge::bootstrap::FirstLogin) -> u16 {
    let body =
        serde_json::json!({ "practice": login.practice_code, "username": login.username, "password": login.password });
    app.client.post(app.url("/api/dashboard/v1/auth/login")).json(&body).send().await.unwrap().status().as_u16()
}
