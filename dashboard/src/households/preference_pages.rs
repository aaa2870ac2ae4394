//! The preference centre an owner reaches from any email's link, without
//! logging in: the link's signed token names the household. A GET only
//! shows; changes take a POST, so mail scanners that open links change
//! nothing. `…/unsubscribe` answers the one-click POST mail clients send
//! for List-Unsubscribe (RFC 8058).

use askama::Template;
use petbridge_domain::{
    Platform, Scope,
    households::preferences::{self, ChangedBy, PreferenceChange, Preferences},
    practices,
};
use poem::{
    Response, handler,
    web::{Data, Form, Path},
};
use serde::Deserialize;

use crate::kit::{
    auth::private_page,
    chrome::{problem, render},
};

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencePage {
    practice: String,
    name: String,
    token: String,
    preferences: Preferences,
    saved: Option<&'static str>,
}

/// The form's checkboxes: a box left unticked is not sent at all.
#[derive(Deserialize)]
pub(crate) struct PreferenceForm {
    post_visit_surveys: Option<String>,
    postcard_reminders: Option<String>,
    email: Option<String>,
    two_way_texts: Option<String>,
    push: Option<String>,
}

async fn show(platform: &Platform, token: String, saved: Option<&'static str>) -> poem::Result<Response> {
    let household = preferences::link_household(platform, &token).await.map_err(problem)?;
    let scope = Scope { practice_id: household.practice_id };
    let practice = practices::get(platform, scope).await.map_err(problem)?;
    let preferences = preferences::get(platform, scope, household.id).await.map_err(problem)?;
    let name = format!("{} {}", household.first_name, household.last_name).trim().to_owned();
    render(&PreferencePage { practice: practice.name, name, token, preferences, saved }).map(private_page)
}

async fn apply(platform: &Platform, token: &str, change: PreferenceChange) -> poem::Result<()> {
    let household = preferences::link_household(platform, token).await.map_err(problem)?;
    let scope = Scope { practice_id: household.practice_id };
    preferences::update(platform, scope, household.id, change, ChangedBy::Link).await.map_err(problem)?;
    Ok(())
}

#[handler]
pub(crate) async fn page(platform: Data<&Platform>, Path(token): Path<String>) -> poem::Result<Response> {
    show(&platform, token, None).await
}

#[handler]
pub(crate) async fn save(
    platform: Data<&Platform>,
    Path(token): Path<String>,
    Form(form): Form<PreferenceForm>,
) -> poem::Result<Response> {
    let change = PreferenceChange {
        post_visit_surveys: Some(form.post_visit_surveys.is_some()),
        postcard_reminders: Some(form.postcard_reminders.is_some()),
        email: Some(form.email.is_some()),
        two_way_texts: Some(form.two_way_texts.is_some()),
        push: Some(form.push.is_some()),
    };
    apply(&platform, &token, change).await?;
    show(&platform, token, Some("Saved: we will only send what is ticked.")).await
}

/// One click from the mail client (or the page's button): no more email.
#[handler]
pub(crate) async fn unsubscribe(platform: Data<&Platform>, Path(token): Path<String>) -> poem::Result<Response> {
    apply(&platform, &token, PreferenceChange { email: Some(false), ..Default::default() }).await?;
    show(
        &platform,
        token,
        Some("You are unsubscribed from our emails. Account emails (such as password resets) still arrive."),
    )
    .await
}
