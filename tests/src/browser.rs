//! Headless Chromium through chromedriver (WebDriver). A test that needs it
//! and finds no `chromium` and `chromedriver` on PATH is skipped, and fails
//! with `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use thirtyfour::prelude::*;

use crate::services::require;

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A headless browser session; the driver process ends with it.
pub struct Browser {
    /// The WebDriver session.
    pub driver: WebDriver,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium, or `None` (printed) when
    /// they are not installed.
    pub async fn start() -> Option<Self> {
        crate::init();
        let how = "install Debian's chromium and chromium-driver";
        let chromium = require(
            "Chromium",
            on_path(&["chromium", "chromium-browser", "google-chrome"]).map(|p| p.display().to_string()),
            how,
        )?;
        let chromedriver = require("chromedriver", on_path(&["chromedriver"]).map(|p| p.display().to_string()), how)?;

        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let server = format!("http://127.0.0.1:{port}");
        wait_until_listening(port).await;

        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).expect("binary");
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ] {
            caps.add_arg(arg).expect("arg");
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display())).expect("arg");
        let driver = WebDriver::new(&server, caps).await.expect("a Chromium session");
        Some(Self { driver, chromedriver: child, _profile: profile })
    }

    /// Waits for an element and returns it.
    pub async fn element(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(Duration::from_secs(10), Duration::from_millis(50))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.driver.clone().quit().await;
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Polls until something accepts connections on `port` (observable state, not a fixed sleep).
async fn wait_until_listening(port: u16) {
    for attempt in 0..200u32 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10 + u64::from(attempt))).await;
    }
    panic!("chromedriver did not start listening on {port}");
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
    }
}
