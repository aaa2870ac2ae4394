//! First start and demo data.

use anyhow::anyhow;
use petbridge_domain::{
    Actor, Origin, Platform, Scope,
    kernel::{permissions::SecurityLevel, practice::Practice, tokens},
    practices::{self, NewPractice},
    staff::accounts::{self, NewStaff},
};

use crate::settings::Settings;

/// The demo practice's code.
pub const DEMO_PRACTICE_CODE: &str = "demo-animal-hospital";

/// How to log in after the first start. Printed once: the password is not
/// stored anywhere it could be shown again.
#[derive(Clone)]
pub struct FirstLogin {
    /// The practice code.
    pub practice_code: String,
    /// The practice name.
    pub practice_name: String,
    /// The administrator's user name.
    pub username: String,
    /// The administrator's password.
    pub password: String,
}

impl std::fmt::Debug for FirstLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstLogin")
            .field("practice_code", &self.practice_code)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl FirstLogin {
    /// Prints the login details to standard output (never to the log, which
    /// may be shipped elsewhere).
    pub fn print(&self, settings: &Settings) {
        let public = settings.server.public_url.trim_end_matches('/');
        println!(
            "\nPetbridge is ready: {name}\n  Dashboard:      {public}/login\n  Practice code:  {code}\n  User name:      {user}\n  Password:       {password}\n  (shown once; change it after you log in)\n",
            name = self.practice_name,
            code = self.practice_code,
            user = self.username,
            password = self.password,
        );
    }
}

/// On an empty database: creates "Demo Animal Hospital" and an administrator
/// with a random password, and returns how to log in. Does nothing when the
/// database already has a practice.
pub async fn first_start(platform: &Platform) -> anyhow::Result<Option<FirstLogin>> {
    if practices::count(platform).await.map_err(|e| anyhow!("{e}"))? > 0 {
        return Ok(None);
    }
    let practice = practices::create(
        platform,
        NewPractice {
            slug: DEMO_PRACTICE_CODE.to_owned(),
            name: "Demo Animal Hospital".to_owned(),
            time_zone: "America/Chicago".to_owned(),
        },
    )
    .await
    .map_err(|e| anyhow!("creating the demo practice: {e}"))?;
    let password = tokens::random_password().map_err(|e| anyhow!("{e}"))?;
    accounts::create(
        platform,
        Scope { practice_id: practice.id },
        &Actor::system("first start"),
        &Origin::default(),
        NewStaff {
            username: "admin".to_owned(),
            display_name: "Practice Administrator".to_owned(),
            email: None,
            level: SecurityLevel::Administrator,
            password: password.clone(),
        },
    )
    .await
    .map_err(|e| anyhow!("creating the first administrator: {e}"))?;
    Ok(Some(FirstLogin {
        practice_code: practice.slug,
        practice_name: practice.name,
        username: "admin".to_owned(),
        password,
    }))
}

/// The practice a command names, or the only one there is.
pub async fn resolve_practice(platform: &Platform, code: Option<&str>) -> anyhow::Result<Practice> {
    match code {
        Some(code) => practices::find_by_slug(platform, code)
            .await
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| anyhow!("no practice has the code {code}")),
        None => practices::sole(platform)
            .await
            .map_err(|e| anyhow!("{e}"))?
            .ok_or_else(|| anyhow!("there is more than one practice (or none): name one with --practice")),
    }
}

/// Staff members the demo adds.
const DEMO_STAFF: [(&str, &str, &str, SecurityLevel); 3] = [
    ("mgarcia", "Maria Garcia", "maria.garcia@demo-animal-hospital.test", SecurityLevel::Manager),
    ("tnguyen", "Tom Nguyen", "tom.nguyen@demo-animal-hospital.test", SecurityLevel::Staff),
    ("aokafor", "Ada Okafor", "ada.okafor@demo-animal-hospital.test", SecurityLevel::Staff),
];

/// Fills a practice with demo data. Running it again adds only what is missing.
/// Returns the accounts it created with their passwords.
pub async fn fill_demo(platform: &Platform, practice: &Practice) -> anyhow::Result<Vec<(String, String)>> {
    let scope = Scope { practice_id: practice.id };
    let existing: Vec<String> =
        accounts::list(platform, scope).await.map_err(|e| anyhow!("{e}"))?.into_iter().map(|s| s.username).collect();
    let mut created = Vec::new();
    for (username, display_name, email, level) in DEMO_STAFF {
        if existing.iter().any(|name| name == username) {
            continue;
        }
        let password = tokens::random_password().map_err(|e| anyhow!("{e}"))?;
        accounts::create(
            platform,
            scope,
            &Actor::system("demo"),
            &Origin::default(),
            NewStaff {
                username: username.to_owned(),
                display_name: display_name.to_owned(),
                email: Some(email.to_owned()),
                level,
                password: password.clone(),
            },
        )
        .await
        .map_err(|e| anyhow!("adding demo user {username}: {e}"))?;
        created.push((username.to_owned(), password));
    }
    Ok(created)
}
