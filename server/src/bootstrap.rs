//! First start and demo data.

use anyhow::anyhow;
use petbridge_domain::{
    Actor, Origin, Platform, Scope,
    services::{
        practices::{self, NewPractice, Practice},
        staff::{self, NewStaff, SecurityLevel},
        tokens,
    },
};

use crate::settings::Settings;

/// The demo practice's code.
pub const DEMO_PRACTICE_CODE: &str = "demo-animal-hospital";

/// On an empty database: creates "Demo Animal Hospital" and an administrator
/// with a random password, and prints how to log in (once: the password is
/// not stored anywhere it could be printed again).
pub async fn first_start(platform: &Platform, settings: &Settings) -> anyhow::Result<()> {
    if practices::count(platform).await.map_err(|e| anyhow!("{e}"))? > 0 {
        return Ok(());
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
    staff::create(
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
    let public = settings.server.public_url.trim_end_matches('/');
    // Printed, never logged: the log may be shipped elsewhere.
    println!(
        "\nPetbridge is ready: {name}\n  Dashboard:      {public}/login\n  Practice code:  {code}\n  User name:      admin\n  Password:       {password}\n  (shown once; change it after you log in)\n",
        name = practice.name,
        code = practice.slug,
    );
    Ok(())
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
        staff::list(platform, scope).await.map_err(|e| anyhow!("{e}"))?.into_iter().map(|s| s.username).collect();
    let mut created = Vec::new();
    for (username, display_name, email, level) in DEMO_STAFF {
        if existing.iter().any(|name| name == username) {
            continue;
        }
        let password = tokens::random_password().map_err(|e| anyhow!("{e}"))?;
        staff::create(
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
