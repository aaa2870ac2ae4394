use petbridge_tests::{browser::Browser, spawn_with, test_settings};
use thirtyfour::prelude::*;

#[tokio::test]
async fn the_login_page_works_in_a_browser_with_the_printed_credentials() {
    let Some(browser) = Browser::start().await else { return };
    let database = std::sync::Arc::new(petbridge_tests::TestDatabase::create().await);
    let mut settings = test_settings(&database).await;
    settings.bootstrap.demo_practice = true;
    let app = spawn_with(settings, database).await;
    let login = app.first_login.clone().expect("first start");

    // A wrong password shows an error that does not say which part was wrong.
    browser.driver.goto(app.url("/dashboard")).await.unwrap();
    browser.element("input[name=username]").await.send_keys(&login.username).await.unwrap();
    browser.element("input[name=password]").await.send_keys("not the password").await.unwrap();
    browser.element("button[type=submit]").await.click().await.unwrap();
    let error = browser.element("[data-testid=login-error]").await.text().await.unwrap();
    assert!(error.contains("don't match an active account"), "{error}");
    assert!(!error.to_lowercase().contains("password is"), "{error}");

    // The printed credentials log in and land on the dashboard.
    browser.element("input[name=password]").await.send_keys(&login.password).await.unwrap();
    browser.element("button[type=submit]").await.click().await.unwrap();
    let practice = browser.element("[data-testid=practice-name]").await.text().await.unwrap();
    assert_eq!(practice, "Demo Animal Hospital");
    let url = browser.driver.current_url().await.unwrap();
    assert_eq!(url.path(), "/dashboard");

    // A new colleague's account email waits in the outbox, and turns to
    // "sent" on the open page when a worker delivers it: no reload.
    let practice = petbridge_domain::services::practices::find_by_slug(&app.platform, &login.practice_code)
        .await
        .unwrap()
        .unwrap();
    app.staff(&practice, "newvet", petbridge_domain::services::staff::SecurityLevel::Staff).await;
    browser.driver.find(By::LinkText("Outbox")).await.unwrap().click().await.unwrap();
    let status = "[data-testid=deliveries] tbody tr:first-child [data-role=status]";
    assert_eq!(browser.element(status).await.text().await.unwrap(), "queued");
    browser.driver.query(By::Css("[data-live-status]")).with_text("Live updates: on").first().await.unwrap();
    assert_eq!(app.deliver_all().await.sent, 1);
    let sent = browser.driver.query(By::Css(status)).with_text("sent").first().await;
    assert!(sent.is_ok(), "the badge turns to sent without a reload");

    // Logging out returns to the login form.
    browser.element("[data-testid=logout]").await.click().await.unwrap();
    browser.element("input[name=username]").await;
    assert_eq!(browser.driver.current_url().await.unwrap().path(), "/login");
    browser.close().await;
}
