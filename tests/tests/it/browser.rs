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
    let practice =
        petbridge_domain::practices::find_by_slug(&app.platform, &login.practice_code).await.unwrap().unwrap();
    app.staff(&practice, "newvet", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
    browser.driver.query(By::LinkText("Outbox")).first().await.unwrap().click().await.unwrap();
    let status = "[data-testid=deliveries] tbody tr:first-child [data-role=status]";
    assert_eq!(browser.element(status).await.text().await.unwrap(), "queued");
    shows(&browser, "[data-live-status]", "Live updates: on").await;
    assert_eq!(app.deliver_all().await.sent, 1);
    let sent = browser.driver.query(By::Css(status)).with_text("sent").first().await;
    assert!(sent.is_ok(), "the badge turns to sent without a reload");

    // Logging out returns to the login form.
    log_out(&browser).await;
    assert_eq!(browser.driver.current_url().await.unwrap().path(), "/login");
    browser.close().await;
}

/// Logs out and waits for the login form: a page asked for while the logout
/// is still on its way would find the session alive and go to the dashboard.
/// (The Staff page has a user-name field of its own, hence the form's action.)
async fn log_out(browser: &Browser) {
    browser.element("[data-testid=logout]").await.click().await.unwrap();
    browser.element("form[action='/login'] input[name=username]").await;
}

async fn log_in(browser: &Browser, app: &petbridge_tests::TestApp, user: &str, password: &str) {
    browser.driver.goto(app.url("/login")).await.unwrap();
    let username = browser.element("input[name=username]").await;
    username.clear().await.unwrap();
    username.send_keys(user).await.unwrap();
    browser.element("input[name=password]").await.send_keys(password).await.unwrap();
    browser.element("button[type=submit]").await.click().await.unwrap();
}

async fn add_user(browser: &Browser, username: &str, name: &str, level: &str) {
    browser.element("[data-testid=add-user]").await.click().await.unwrap();
    browser.element("form.grid-form input[name=username]").await.send_keys(username).await.unwrap();
    browser.element("form.grid-form input[name=display_name]").await.send_keys(name).await.unwrap();
    browser
        .element("form.grid-form input[name=email]")
        .await
        .send_keys(&format!("{username}@maple.test"))
        .await
        .unwrap();
    browser.element(&format!("form.grid-form select[name=level] option[value={level}]")).await.click().await.unwrap();
    browser.element("form.grid-form input[name=password]").await.send_keys(petbridge_tests::PASSWORD).await.unwrap();
    browser.element("form.grid-form button[type=submit]").await.click().await.unwrap();
    let expected = format!("Added {username}.");
    // The page is replaced after the form posts: a notice found on the old
    // page goes stale, so look again until the new page shows it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match browser.driver.query(By::Css("[data-testid=notice]")).with_text(expected.clone()).first().await {
            Ok(_) => break,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => panic!("no notice {expected:?}: {err}"),
        }
    }
}

#[tokio::test]
async fn an_administrator_adds_users_sees_a_lockout_unlocks_it_and_reads_the_log() {
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    app.practice("maple-vets").await;

    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.driver.query(By::LinkText("Staff")).first().await.unwrap().click().await.unwrap();
    add_user(&browser, "mgarcia", "Maria Garcia", "manager").await;
    add_user(&browser, "tnguyen", "Tom Nguyen", "staff").await;
    log_out(&browser).await;

    // The new staff member mistypes the password five times.
    for _ in 0..5 {
        log_in(&browser, &app, "tnguyen", "not my password").await;
        browser.element("[data-testid=login-error]").await;
    }
    log_in(&browser, &app, "tnguyen", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=login-error]").await;

    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.driver.query(By::LinkText("Staff")).first().await.unwrap().click().await.unwrap();
    let row = "tr[data-username=tnguyen]";
    assert_eq!(browser.element(&format!("{row} [data-role=failed]")).await.text().await.unwrap(), "6");
    assert_eq!(browser.element(&format!("{row} [data-role=locked]")).await.text().await.unwrap(), "Locked");
    let manager_row = browser.element("tr[data-username=mgarcia]").await.text().await.unwrap();
    assert!(manager_row.contains("Maria Garcia") && manager_row.contains("Manager"), "{manager_row}");

    // Edit: Maria becomes an administrator.
    browser.element("tr[data-username=mgarcia] [data-role=edit]").await.click().await.unwrap();
    browser
        .element("tr[data-username=mgarcia] select[name=level] option[value=administrator]")
        .await
        .click()
        .await
        .unwrap();
    browser.element("tr[data-username=mgarcia] .inline-edit button").await.click().await.unwrap();
    shows(&browser, "[data-testid=notice]", "Saved mgarcia.").await;
    shows(&browser, "tr[data-username=mgarcia]", "Administrator").await;

    browser.element(&format!("{row} [data-role=unlock]")).await.click().await.unwrap();
    // The page before showed a notice too: wait for this one.
    shows(&browser, "[data-testid=notice]", "Unlocked tnguyen.").await;
    // Looked up again until it shows: the page may redraw under a found element.
    shows(&browser, &format!("{row} [data-role=locked]"), "No").await;

    browser.driver.query(By::LinkText("Activity log")).first().await.unwrap().click().await.unwrap();
    browser.element("[data-testid=activity]").await;
    let mut actions = Vec::new();
    for cell in browser.driver.find_all(By::Css("[data-testid=activity] [data-role=action]")).await.unwrap() {
        actions.push(cell.text().await.unwrap());
    }
    let count = |name: &str| actions.iter().filter(|a| *a == name).count();
    assert_eq!(count("staff.create"), 2 + 1, "the two added here and the fixture's admin: {actions:?}");
    assert_eq!(count("auth.login_failed"), 6, "{actions:?}");
    assert_eq!(count("staff.lock"), 1, "{actions:?}");
    assert_eq!(count("staff.unlock"), 1, "{actions:?}");

    // Their own profile: a guessable password is refused with the reason.
    browser.element("[data-testid=signed-in-as]").await.click().await.unwrap();
    let change = |current: &'static str, new: &'static str| {
        let browser = &browser;
        async move {
            // A refused change stays on the page with what was typed: type afresh.
            for (field, text) in [("current_password", current), ("new_password", new)] {
                let input = browser.element(&format!("input[name={field}]")).await;
                input.clear().await.unwrap();
                input.send_keys(text).await.unwrap();
            }
            browser.element("form[data-api='POST /me/password'] button").await.click().await.unwrap();
        }
    };
    change(petbridge_tests::PASSWORD, "password12345").await;
    let error = browser.element("[data-testid=form-error]").await.text().await.unwrap();
    assert!(error.contains("too easy to guess"), "{error}");
    change(petbridge_tests::PASSWORD, "lantern meadow copper violin").await;
    shows(&browser, "[data-testid=notice]", "Password changed.").await;
    browser.close().await;
}

#[tokio::test]
async fn a_staff_member_turns_on_two_factor_login_and_logs_in_with_a_code() {
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    app.staff(&fixture.practice, "tnguyen", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;

    log_in(&browser, &app, "tnguyen", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await.click().await.unwrap();

    // A profile picture, uploaded from a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("me.png");
    image::RgbImage::from_pixel(300, 200, image::Rgb([30, 120, 100])).save(&file).unwrap();
    browser.element("input[type=file]").await.send_keys(file.display().to_string()).await.unwrap();
    browser.element("[data-picture-upload] button").await.click().await.unwrap();
    shows(&browser, "[data-testid=notice]", "Picture saved.").await;
    browser.element("[data-testid=picture]").await;

    browser.element("[data-testid=two-factor-start]").await.click().await.unwrap();
    let secret = browser.element("[data-testid=totp-secret]").await.text().await.unwrap();
    browser.element("[data-testid=two-factor] input[name=code]").await.send_keys("000000").await.unwrap();
    browser.element("[data-testid=two-factor] button").await.click().await.unwrap();
    let error = browser.element("[data-testid=form-error]").await.text().await.unwrap();
    assert!(error.contains("not right"), "{error}");
    assert_eq!(browser.element("[data-testid=totp-secret]").await.text().await.unwrap(), secret, "same key to retry");
    let code = browser.element("[data-testid=two-factor] input[name=code]").await;
    code.clear().await.unwrap();
    code.send_keys(&app.totp_code(&secret)).await.unwrap();
    browser.element("[data-testid=two-factor] button").await.click().await.unwrap();
    browser.element("[data-testid=recovery-codes]").await;
    let codes = browser.driver.find_all(By::Css("[data-testid=recovery-codes] li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    log_out(&browser).await;

    log_in(&browser, &app, "tnguyen", petbridge_tests::PASSWORD).await;
    app.clock.advance(chrono::Duration::seconds(30));
    browser.element("input[name=code]").await.send_keys(&app.totp_code(&secret)).await.unwrap();
    browser.element("button[type=submit]").await.click().await.unwrap();
    assert_eq!(
        browser.element("[data-testid=practice-name]").await.text().await.unwrap(),
        "maple-vets Veterinary Clinic"
    );
    browser.close().await;
}

#[tokio::test]
async fn staff_filter_sort_search_and_export_the_users_list() {
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("browse").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let people =
        [("Ava", "Brown", "ava@example.com"), ("Ben", "Adams", "ben@example.com"), ("Cat", "Young", "cat@example.com")];
    let clients: Vec<serde_json::Value> = people
        .iter()
        .enumerate()
        .map(|(i, (first, last, email))| {
            serde_json::json!({
                "pms_id": format!("B{i}"), "updated_at": now.to_rfc3339(), "first_name": first, "last_name": last,
                "email": email, "last_transaction_on": now.date_naive()
            })
        })
        .collect();
    let pets = serde_json::json!([
        { "pms_id": "BP0", "updated_at": now.to_rfc3339(), "client_pms_id": "B0", "name": "Whiskers", "species": "Cat" },
        { "pms_id": "BP1", "updated_at": now.to_rfc3339(), "client_pms_id": "B1", "name": "Rover", "species": "Dog" }
    ]);
    let reminders = serde_json::json!([
        { "pms_id": "BR1", "updated_at": now.to_rfc3339(), "client_pms_id": "B1", "pet_pms_id": "BP1", "service": "Rabies", "due_on": now.date_naive() - chrono::Duration::days(2) }
    ]);
    assert_eq!(
        app.sync(&key, &serde_json::json!({ "clients": clients, "pets": pets, "reminders": reminders })).await.0,
        200
    );
    app.sign_up("browse", "cat@example.com").await;
    app.verify_owner("cat@example.com").await;

    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.driver.query(By::LinkText("Users")).first().await.unwrap().click().await.unwrap();
    let emails = || async {
        let mut found = Vec::new();
        for cell in browser.driver.find_all(By::Css("[data-testid=clients] tbody [data-role=email]")).await.unwrap() {
            found.push(cell.text().await.unwrap());
        }
        found
    };
    browser.element("[data-testid=clients] tbody tr[data-client]").await;
    // Sorted by name: Adams, Brown, Young.
    assert_eq!(emails().await, ["ben@example.com", "ava@example.com", "cat@example.com"]);
    let past_due = browser.element("tr:first-child [data-role=past-due] span").await;
    assert_eq!(past_due.text().await.unwrap(), "🐶");
    assert_eq!(browser.element("tr:nth-child(2) [data-role=past-due] span").await.text().await.unwrap(), "✓");

    // Active App Users: the verified one only.
    browser.element("[data-testid=filter-active]").await.click().await.unwrap();
    browser.driver.query(By::Css("[data-testid=filter-active][aria-current=page]")).first().await.unwrap();
    assert_eq!(emails().await, ["cat@example.com"]);
    assert_eq!(browser.element("[data-role=status]").await.text().await.unwrap(), "Verified");
    assert_eq!(browser.element("[data-role=pet-sync]").await.text().await.unwrap(), "Connected");

    // All again, sorted by email, then the other way round.
    browser.element("[data-testid=filter-all]").await.click().await.unwrap();
    browser.driver.query(By::Css("[data-testid=filter-all][aria-current=page]")).first().await.unwrap();
    browser.element("a[data-sort=email]").await.click().await.unwrap();
    browser.driver.query(By::Css("th[aria-sort=ascending] a[data-sort=email]")).first().await.unwrap();
    assert_eq!(emails().await, ["ava@example.com", "ben@example.com", "cat@example.com"]);
    browser.element("a[data-sort=email]").await.click().await.unwrap();
    browser.driver.query(By::Css("th[aria-sort=descending] a[data-sort=email]")).first().await.unwrap();
    assert_eq!(emails().await, ["cat@example.com", "ben@example.com", "ava@example.com"]);

    // Search by a pet's name.
    let search = browser.element("[data-testid=search]").await;
    search.send_keys("whisk").await.unwrap();
    search.send_keys(Key::Enter).await.unwrap();
    browser.driver.query(By::Css("[data-testid=search][value=whisk]")).first().await.unwrap();
    assert_eq!(emails().await, ["ava@example.com"]);

    // Export what is shown, with the page's own session.
    let href = browser.element("[data-testid=export]").await.attr("href").await.unwrap().unwrap();
    let csv = browser
        .driver
        .execute("return fetch(arguments[0]).then(r => r.text())", vec![serde_json::Value::String(href)])
        .await
        .unwrap()
        .json()
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("Brown,Ava,ava@example.com"), "{csv}");
    assert!(lines[1].contains("Whiskers"), "{csv}");
    browser.close().await;
}

/// Waits until an element matching `css` shows `text` (in its text). The
/// page redraws its lists as frames arrive, so an element found can go
/// stale before its text is read: look again until the deadline.
async fn shows(browser: &Browser, css: &str, text: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let found = browser
            .driver
            .query(By::Css(css))
            .with_text(thirtyfour::stringmatch::StringMatch::new(text).partial())
            .nowait()
            .first()
            .await;
        if found.is_ok() {
            return;
        }
        if std::time::Instant::now() > deadline {
            let page = browser.element("main").await.text().await.unwrap_or_default();
            panic!("{css} does not show {text:?}; the page shows:\n{page}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Clicks the element matching `css`. A list the page redraws as frames
/// arrive can replace the element between finding and clicking it: find it
/// again until the deadline.
async fn click(browser: &Browser, css: &str) {
    use thirtyfour::error::WebDriverErrorInner;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match browser.element(css).await.click().await {
            Ok(()) => return,
            Err(err)
                if matches!(err.as_inner(), WebDriverErrorInner::StaleElementReference(_))
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(err) => panic!("could not click {css}: {err}"),
        }
    }
}

#[tokio::test]
async fn staff_answer_an_owner_in_the_chat_page_and_see_typing_and_read_state() {
    use serde_json::json;
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    app.practice("maple-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let mut owner = app.app_socket(&pat).await;
    let hello = owner.next_of("hello").await;
    let conversation = hello["conversation_id"].as_str().unwrap().to_owned();
    owner.send_json(&json!({ "type": "send", "client_message_id": "o-1", "body": "Is Mochi's food in?" })).await;
    owner.next_of("ack").await;

    // The inbox shows the unread message; opening it marks it read.
    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.driver.query(By::LinkText("Chat")).first().await.unwrap().click().await.unwrap();
    let item = format!("[data-testid=inbox] li[data-conversation-id='{conversation}']");
    shows(&browser, &format!("{item} [data-role=unread]"), "1").await;
    click(&browser, &format!("{item} a")).await;
    shows(&browser, "[data-testid=messages] li.owner", "Is Mochi's food in?").await;
    let read = owner.next_of("read").await;
    assert_eq!((read["by"].clone(), read["seq"].clone()), (json!("staff"), json!(1)));
    let unread = browser.driver.query(By::Css(format!("{item} [data-role=unread]"))).nowait().exists().await.unwrap();
    assert!(!unread, "the read conversation has no unread badge");

    // The owner types; the page says so.
    owner.send_json(&json!({ "type": "typing" })).await;
    shows(&browser, "[data-testid=typing]", "is typing").await;

    // Staff answer from the keyboard; the owner receives it.
    let compose = browser.element("[data-testid=compose]").await;
    compose.send_keys("Yes, ready at the desk").await.unwrap();
    compose.send_keys(Key::Enter).await.unwrap();
    let answer = owner.next_of("message").await;
    assert_eq!(answer["message"]["body"], "Yes, ready at the desk");
    assert_eq!(answer["message"]["author"], "staff");
    shows(&browser, "[data-testid=messages] li.staff", "Yes, ready at the desk").await;
    let seen = browser.driver.query(By::Css("[data-testid=seen]")).nowait().exists().await.unwrap();
    assert!(!seen, "nothing is seen before the owner reads it");

    // The owner reads it: "Seen". A new message arrives without a reload.
    owner.send_json(&json!({ "type": "read", "seq": 2 })).await;
    shows(&browser, "[data-testid=messages] li.staff [data-testid=seen]", "Seen").await;
    owner.send_json(&json!({ "type": "send", "client_message_id": "o-2", "body": "Thanks! Coming at 5" })).await;
    shows(&browser, "[data-testid=messages] li.owner", "Thanks! Coming at 5").await;
    assert!(browser.element("[data-testid=typing]").await.text().await.unwrap().is_empty(), "a message ends typing");

    // Closing it shows at once; the stored history matches what the page shows.
    click(&browser, "[data-testid=toggle-status]").await;
    shows(&browser, "[data-testid=conversation-status]", "closed").await;
    // Read in one script: the list may be redrawn between reads of its items.
    let shown = browser
        .driver
        .execute(
            "return [...document.querySelectorAll('[data-testid=messages] li[data-seq]')].map(li => li.dataset.seq)",
            Vec::new(),
        )
        .await
        .unwrap()
        .json()
        .clone();
    assert_eq!(shown, json!(["1", "2", "3"]));
    browser.close().await;
}

/// Waits for the page at `path` to show the notice `text` after a form
/// posted to the API reloaded it.
async fn notice(browser: &Browser, text: &str) {
    shows(browser, "[data-testid=notice]", text).await;
}

#[tokio::test]
async fn staff_work_an_owners_dashboard_paws_rewards_selfies_orders_and_note() {
    use reqwest::Method;
    use serde_json::json;
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("paws").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let batch = json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Pat", "last_name": "Lee",
                      "email": "pat@example.com", "last_transaction_on": now.date_naive() }],
        "pets": [
            { "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Biscuit", "species": "Dog" },
            { "pms_id": "P2", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Mochi", "species": "Cat" }
        ]
    });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let pat = app.verified_owner("paws", "pat@example.com").await;
    let household = app.owner_account("pat@example.com").await.client_id;
    let admin = app.login("paws", "admin").await;

    // The Loyalty page: a reward for the catalogue, and paws from visits.
    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    browser.driver.query(By::LinkText("Loyalty")).first().await.unwrap().click().await.unwrap();
    let form = browser.element("[data-testid=add-reward]").await;
    form.find(By::Css("input[name=name]")).await.unwrap().send_keys("Nail trim").await.unwrap();
    let paws = form.find(By::Css("input[name=paws_needed]")).await.unwrap();
    paws.clear().await.unwrap();
    paws.send_keys("2").await.unwrap();
    form.find(By::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    notice(&browser, "The reward is added.").await;
    shows(&browser, "[data-testid=rewards] tbody tr[data-reward]", "Nail trim").await;
    let rule = browser.element("input[name=paw_per_invoiced_cents]").await;
    rule.clear().await.unwrap();
    rule.send_keys("25").await.unwrap();
    rule.send_keys(Key::Enter).await.unwrap();
    shows(&browser, "[data-testid=paw-rule]", "25.00").await;
    let (_, settings) = app.get_json("/api/dashboard/v1/practice/settings", &admin).await;
    assert_eq!(settings["paw_per_invoiced_cents"], 2500);
    let (_, rewards) = app.get_json("/api/dashboard/v1/rewards", &admin).await;
    let reward = rewards[0].clone();

    // Add a paw: the download-the-app paw and this one make 2.
    let page = app.url(&format!("/dashboard/clients/{household}"));
    browser.driver.goto(&page).await.unwrap();
    shows(&browser, "[data-testid=paw-balance]", "1").await;
    browser.element("[data-testid=add-paw]").await.click().await.unwrap();
    notice(&browser, "A paw is added.").await;
    shows(&browser, "[data-testid=paw-balance]", "2").await;

    // The owner asks for the reward in the app; staff approve it.
    let ask = json!({ "reward_id": reward["id"] });
    assert_eq!(app.app_call(Method::POST, "/rewards/requests", Some(&pat), Some(ask)).await.0, 201);
    browser.driver.goto(&page).await.unwrap();
    shows(&browser, "[data-testid=pending-rewards]", "Nail trim").await;
    shows(&browser, "[data-testid=paw-balance]", "0").await;
    browser.element("[data-testid=pending-rewards] [data-role=approve]").await.click().await.unwrap();
    notice(&browser, "The reward request is approved.").await;
    shows(&browser, "[data-testid=pending-rewards]", "No pending requests.").await;
    let (_, card) = app.app_call(Method::GET, "/rewards", Some(&pat), None).await;
    assert_eq!(card["requests"][0]["status"], "approved");

    // A paw given by mistake, undone with Oops.
    browser.element("[data-testid=add-paw]").await.click().await.unwrap();
    shows(&browser, "[data-testid=paw-balance]", "1").await;
    browser.element("[data-testid=paw-history] [data-role=oops]").await.click().await.unwrap();
    notice(&browser, "Oops: the paw is taken back.").await;
    shows(&browser, "[data-testid=paw-balance]", "0").await;
    shows(&browser, "[data-testid=paw-history] tbody tr[data-kind=earned]", "taken back").await;

    // A selfie from the app: star it for the slideshow and heart it.
    let uploaded = app
        .client
        .post(app.url("/api/app/v1/selfies"))
        .bearer_auth(&pat)
        .header("content-type", "image/png")
        .body(petbridge_tests::pictures::png(400, 300))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    browser.driver.goto(&page).await.unwrap();
    browser.element("[data-testid=selfies] [data-role=star][aria-pressed=false]").await.click().await.unwrap();
    browser.element("[data-testid=selfies] [data-role=star][aria-pressed=true]").await;
    browser.element("[data-testid=selfies] [data-role=heart][aria-pressed=false]").await.click().await.unwrap();
    browser.element("[data-testid=selfies] [data-role=heart][aria-pressed=true]").await;
    let (_, slideshow) = app.app_call(Method::GET, "/slideshow", Some(&pat), None).await;
    assert_eq!(slideshow.as_array().map(Vec::len), Some(1));

    // Orders and appointment requests, filtered by pet.
    let (_, pets) = app.app_call(Method::GET, "/pets", Some(&pat), None).await;
    let id_of = |name: &str| pets.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["id"].clone();
    let order = json!({ "pet_id": id_of("Biscuit"), "details": "Dental chews" });
    assert_eq!(app.app_call(Method::POST, "/orders", Some(&pat), Some(order)).await.0, 201);
    let visit = json!({ "pet_id": id_of("Mochi"), "reason": "Sneezing", "preferred_times": ["Monday"] });
    assert_eq!(app.app_call(Method::POST, "/appointment-requests", Some(&pat), Some(visit)).await.0, 201);
    browser.driver.goto(&page).await.unwrap();
    let rows = "[data-testid=requests] tbody tr[data-request]";
    assert_eq!(browser.driver.find_all(By::Css(rows)).await.unwrap().len(), 2);
    let filter = browser.element("[data-testid=request-pet-filter]").await;
    thirtyfour::components::SelectElement::new(&filter).await.unwrap().select_by_visible_text("Biscuit").await.unwrap();
    shows(&browser, "[data-testid=request-pet-filter] option[selected]", "Biscuit").await;
    let shown = browser.driver.find_all(By::Css(rows)).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].find(By::Css("[data-role=pet]")).await.unwrap().text().await.unwrap(), "Biscuit");
    browser.element(&format!("{rows} [data-step=accepted]")).await.click().await.unwrap();
    notice(&browser, "The order is accepted.").await;
    shows(&browser, &format!("{rows} [data-role=status]"), "Accepted").await;

    // The gear's preferences: the same record the app reads.
    browser.element("[data-testid=preferences] input[name=postcard_reminders]").await.click().await.unwrap();
    browser.element("[data-testid=preferences] button[type=submit]").await.click().await.unwrap();
    notice(&browser, "The communication preferences are saved.").await;
    let (_, preferences) = app.app_call(Method::GET, "/me/preferences", Some(&pat), None).await;
    assert_eq!(
        (preferences["postcard_reminders"].as_bool(), preferences["email"].as_bool()),
        (Some(false), Some(true))
    );

    // A personal note: its icon shows on the Users list.
    let note = browser.element("[data-testid=personal-note]").await;
    note.send_keys("Prefers texts after 5pm").await.unwrap();
    browser.element("[data-testid=save-note]").await.click().await.unwrap();
    notice(&browser, "The personal note is saved.").await;
    browser.driver.goto(app.url("/dashboard/clients")).await.unwrap();
    browser.element("[data-testid=clients] tbody tr[data-client] [data-role=note-icon]").await;
    browser.close().await;
}

#[tokio::test]
async fn a_pet_named_with_a_right_to_left_override_leaves_the_labels_around_it_readable() {
    use reqwest::Method;
    use serde_json::json;
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("rtl-vets").await;
    app.staff(&fixture.practice, "frontdesk", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
    let pat = app.verified_owner("rtl-vets", "pat@example.com").await;
    let pet = json!({ "name": "\u{202e}Bella the cat", "species": "Cat" });
    let (status, body) = app.app_call(Method::POST, "/pets", Some(&pat), Some(pet)).await;
    assert_eq!(status, 201, "{body}");
    let household = app.owner_account("pat@example.com").await.client_id;

    log_in(&browser, &app, "frontdesk", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    browser.driver.goto(app.url(&format!("/dashboard/clients/{household}#pets"))).await.unwrap();
    browser.element("h3 small").await;
    // Where the label's first and last letters are drawn: reversed by the
    // override, the first would stand right of the last.
    let drawn = browser
        .driver
        .execute(
            r#"const label = [...document.querySelectorAll("h3 small")].find((s) => s.textContent === "added by owner");
               const text = label.firstChild, range = document.createRange();
               const x = (i) => { range.setStart(text, i); range.setEnd(text, i + 1); return range.getBoundingClientRect().left; };
               return [x(0), x(text.length - 1)];"#,
            vec![],
        )
        .await
        .unwrap();
    let [first, last]: [f64; 2] = drawn.convert().unwrap();
    let shot = std::env::temp_dir().join("petbridge-rtl-pet-name.png");
    let card = browser.driver.find(By::XPath("//h3[small[text()='added by owner']]/..")).await.unwrap();
    card.scroll_into_view().await.unwrap();
    card.screenshot(&shot).await.unwrap();
    println!("screenshot of the pet card: {}", shot.display());
    assert!(first < last, "the label reads left to right after the pet's name ({first} vs {last})");
    browser.close().await;
}

#[tokio::test]
async fn a_manager_approves_a_staff_members_reinvite_all_in_place_and_the_log_names_both() {
    use serde_json::json;
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("approve-vets").await;
    let level = petbridge_domain::kernel::permissions::SecurityLevel::Manager;
    app.staff(&fixture.practice, "manager", level).await;
    app.staff(&fixture.practice, "frontdesk", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let batch = json!({ "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ivy", "last_name": "Invitee",
                                      "email": "ivy@example.com", "last_transaction_on": now.date_naive() }] });
    assert_eq!(app.sync(&key, &batch).await.0, 200);

    log_in(&browser, &app, "frontdesk", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    browser.driver.goto(app.url("/dashboard/clients")).await.unwrap();
    click(&browser, "[data-testid=reinvite-all]").await;
    browser.driver.accept_alert().await.unwrap();
    // A wrong password first: the prompt says so and stays.
    let dialog = browser.element("dialog[data-testid=override]").await;
    dialog.find(By::Css("input[name=username]")).await.unwrap().send_keys("manager").await.unwrap();
    dialog.find(By::Css("input[name=password]")).await.unwrap().send_keys("not it at all").await.unwrap();
    dialog.find(By::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    shows(&browser, "dialog[data-testid=override] [data-role=refused]", "Not approved").await;
    let dialog = browser.element("dialog[data-testid=override]").await;
    dialog.find(By::Css("input[name=username]")).await.unwrap().send_keys("manager").await.unwrap();
    dialog.find(By::Css("input[name=password]")).await.unwrap().send_keys(petbridge_tests::PASSWORD).await.unwrap();
    dialog.find(By::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    notice(&browser, "Invitations are on their way").await;
    // Still the staff member's own session.
    let who = browser.element("[data-testid=signed-in-as]").await.text().await.unwrap();
    assert!(who.starts_with("frontdesk"), "{who}");

    let admin = app.login("approve-vets", "admin").await;
    let (_, log) = app.get_json("/api/dashboard/v1/activity?action=auth.override", &admin).await;
    let approved: Vec<&serde_json::Value> =
        log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "auth.override").collect();
    assert_eq!(approved.len(), 1, "{log}");
    assert_eq!((approved[0]["actor"].as_str(), approved[0]["approver"].as_str()), (Some("frontdesk"), Some("manager")));
    assert_eq!(approved[0]["detail"]["permission"], "campaigns.send");
    let (_, campaigns) = app.get_json("/api/dashboard/v1/campaigns", &admin).await;
    assert!(campaigns.to_string().contains("reinvite_all"), "{campaigns}");
    browser.close().await;
}

#[tokio::test]
async fn an_administrator_adds_a_plan_and_a_manager_approves_a_staff_members_fee_waiver_and_hold_in_place_and_the_agreement_prints()
 {
    use serde_json::json;
    let Some(browser) = Browser::start().await else { return };
    let app = petbridge_tests::spawn_app().await;
    let fixture = app.practice("plan-vets").await;
    let level = petbridge_domain::kernel::permissions::SecurityLevel::Manager;
    app.staff(&fixture.practice, "manager", level).await;
    app.staff(&fixture.practice, "frontdesk", petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let born = (now - chrono::Duration::days(100)).date_naive();
    let batch = json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "last_transaction_on": now.date_naive() }],
        "pets": [{ "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Bella", "species": "Dog", "date_of_birth": born }]
    });
    assert_eq!(app.sync(&key, &batch).await.0, 200);

    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    browser.driver.goto(app.url("/dashboard/plans")).await.unwrap();
    let form = "form[data-testid=add-plan-template]";
    for (field, value) in [
        ("code", "puppy"),
        ("name", "Puppy Plan"),
        ("species", "dog"),
        ("max_age_months", "12"),
        ("monthly_price_cents", "39.99"),
        ("paid_in_full_price_cents", "449"),
        ("initial_fee_cents", "49"),
        ("agreement_text", "This plan is not insurance."),
    ] {
        let input = browser.element(&format!("{form} [name={field}]")).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    click(&browser, &format!("{form} [data-add-row=items]")).await;
    let rows = browser.driver.find_all(By::Css(format!("{form} tr[data-row]"))).await.unwrap();
    assert_eq!(rows.len(), 2, "a second item row");
    for (row, values) in rows.iter().zip([
        [("description", "Wellness exam"), ("code", "WP100"), ("quantity", "3"), ("retail_price_cents", "65")],
        [
            ("description", "DA2PP vaccine"),
            ("code", "WP110"),
            ("alternate_codes", "WP110B, WP110C"),
            ("retail_price_cents", "38.50"),
        ],
    ]) {
        for (field, value) in values {
            row.find(By::Css(format!("[name={field}]"))).await.unwrap().send_keys(value).await.unwrap();
        }
    }
    click(&browser, &format!("{form} button[type=submit]")).await;
    notice(&browser, "Plan PUPPY is added.").await;
    let admin = app.login("plan-vets", "admin").await;
    let (_, templates) = app.get_json("/api/dashboard/v1/plan-templates", &admin).await;
    let template = &templates[0];
    assert_eq!(
        (template["monthly_price_cents"].as_i64(), template["max_age_months"].as_i64()),
        (Some(3_999), Some(12))
    );
    assert_eq!(template["items"][1]["alternate_codes"], json!(["WP110B", "WP110C"]));
    assert_eq!(
        (template["items"][1]["quantity"].clone(), template["items"][1]["retail_price_cents"].as_i64()),
        (json!(null), Some(3_850))
    );

    click(&browser, "[data-testid=logout]").await;
    log_in(&browser, &app, "frontdesk", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let client = listed["items"][0]["id"].as_str().unwrap().to_owned();
    browser.driver.goto(app.url(&format!("/dashboard/clients/{client}"))).await.unwrap();
    // The form prices itself as choices change: the $49 fee, then waived.
    shows(&browser, "[data-testid=enrol-quote]", "Initial charge $88.99, then $39.99 a month").await;
    click(&browser, "form[data-testid=enrol] input[name=skip_payment_method]").await;
    click(&browser, "form[data-testid=enrol] input[name=waive_initial_fee]").await;
    shows(&browser, "[data-testid=enrol-quote]", "Initial charge $39.99, then $39.99 a month").await;
    click(&browser, "form[data-testid=enrol] button[type=submit]").await;
    let approve = || async {
        let dialog = browser.element("dialog[data-testid=override]").await;
        dialog.find(By::Css("input[name=username]")).await.unwrap().send_keys("manager").await.unwrap();
        dialog.find(By::Css("input[name=password]")).await.unwrap().send_keys(petbridge_tests::PASSWORD).await.unwrap();
        dialog.find(By::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    };
    approve().await;
    notice(&browser, "Bella is enrolled in Puppy Plan.").await;
    shows(&browser, "[data-testid=plans]", "approved by manager").await;
    shows(&browser, "[data-testid=plans]", "fee waived").await;
    // The $49 fee was waived: the initial charge is the first instalment.
    shows(&browser, "[data-testid=plan-payments]", "$39.99").await;
    // Its healthcare agreement prints from the plan view: the link gives the
    // staff member's session the very PDF the plan lists.
    shows(&browser, "[data-testid=plan-agreements]", "not signed yet").await;
    let href = browser.element("[data-testid=print-agreement]").await.attr("href").await.unwrap().unwrap();
    let printed = browser
        .driver
        .execute(
            "return fetch(arguments[0]).then(async r => { \
               const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await r.arrayBuffer())); \
               return [r.status, r.headers.get('content-type'), [...digest].map(b => b.toString(16).padStart(2, '0')).join('')]; })",
            vec![serde_json::Value::String(href)],
        )
        .await
        .unwrap();
    let (_, plans) = app.get_json(&format!("/api/dashboard/v1/clients/{client}/plans"), &admin).await;
    let listed = plans[0]["agreements"][0]["sha256"].clone();
    assert_eq!(printed.json(), &json!([200, "application/pdf", listed]));

    // A note, then a hold the manager approves in place; both in the plan's history.
    let note = browser.element("form[data-testid=add-note] textarea[name=body]").await;
    note.send_keys("Owner asked to hold while they move house").await.unwrap();
    click(&browser, "form[data-testid=add-note] button[type=submit]").await;
    notice(&browser, "The note is added.").await;
    shows(&browser, "[data-testid=plan-notes]", "Owner asked to hold while they move house").await;
    click(&browser, "[data-testid=plan-actions] summary").await;
    let reason = browser.element("form[data-testid=hold] select[name=reason]").await;
    reason.find(By::Css("option[value=incomplete_account]")).await.unwrap().click().await.unwrap();
    click(&browser, "form[data-testid=hold] button[type=submit]").await;
    approve().await;
    notice(&browser, "The plan is on hold.").await;
    shows(&browser, "[data-testid=plan-hold]", "incomplete_account").await;
    shows(
        &browser,
        "[data-testid=plan-history]",
        "Put on hold (incomplete account), by frontdesk, approved by manager",
    )
    .await;
    browser.close().await;
}

/// "Add a card" on the client page: the gateway's card fields (the fake's
/// stand-in for Stripe.js) confirm the setup, and the page lists the card.
#[tokio::test]
async fn a_manager_adds_a_card_through_the_gateways_fields_and_the_page_lists_it() {
    let Some(browser) = Browser::start().await else { return };
    let stripe = petbridge_tests::fake_stripe::FakeStripe::start().await;
    let app = petbridge_tests::spawn_with_stripe(&stripe).await;
    let fixture = app.practice("card-vets").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let batch = serde_json::json!({
        "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "last_transaction_on": now.date_naive() }],
        "pets": [{ "pms_id": "P1", "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": "Bella", "species": "Dog" }]
    });
    assert_eq!(app.sync(&key, &batch).await.0, 200);
    let admin = app.login("card-vets", "admin").await;
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let client = listed["items"][0]["id"].as_str().unwrap().to_owned();

    log_in(&browser, &app, "admin", petbridge_tests::PASSWORD).await;
    browser.element("[data-testid=signed-in-as]").await;
    browser.driver.goto(app.url(&format!("/dashboard/clients/{client}"))).await.unwrap();
    shows(&browser, "[data-testid=cards]", "No card saved.").await;
    click(&browser, "[data-testid=add-card] [data-role=start]").await;
    browser.element("[data-testid=fake-stripe-card]").await.send_keys("pm_card_visa").await.unwrap();
    click(&browser, "[data-testid=add-card] button[type=submit]").await;
    notice(&browser, "The card is saved: visa ending 4242.").await;
    shows(&browser, "[data-testid=cards]", "visa ending 4242, expires 12/2034").await;
    let (_, cards) = app.get_json(&format!("/api/dashboard/v1/clients/{client}/payment-cards"), &admin).await;
    assert_eq!(cards.as_array().unwrap().len(), 1);
    assert!(stripe.shape_errors().is_empty(), "{:?}", stripe.shape_errors());
    browser.close().await;
}
