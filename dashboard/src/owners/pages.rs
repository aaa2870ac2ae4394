//! The pages an owner reaches from an email: confirm an address, choose a
//! new password; and the favourite selfie a push notification shows. The link's token is the secret; the page asks for a click
//! (or the new password) before using it, so mail scanners that open links
//! spend nothing.

use askama::Template;
use petbridge_domain::{DomainError, Platform, owners::accounts, selfies};
use poem::{
    Response, handler,
    web::{Data, Form, Path, Query},
};
use serde::Deserialize;

use crate::kit::{
    auth::private_page,
    chrome::{problem, render},
};

#[derive(Template)]
#[template(path = "owner_link.html")]
struct LinkPage<'a> {
    heading: &'a str,
    token: String,
    asks_password: bool,
    error: Option<String>,
    done: Option<&'a str>,
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub(crate) struct LinkForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

const VERIFY: &str = "Confirm your email";
const RESET: &str = "Choose a new password";

fn message(err: DomainError) -> poem::Result<String> {
    match err {
        DomainError::Failed(code, Some(message)) if code.kind() == petbridge_domain::Kind::Unprocessable => Ok(message),
        other => Err(problem(other)),
    }
}

fn page(
    heading: &str,
    token: String,
    asks_password: bool,
    error: Option<String>,
    done: Option<&str>,
) -> poem::Result<Response> {
    render(&LinkPage { heading, token, asks_password, error, done }).map(private_page)
}

#[handler]
pub(crate) fn verify_page(Query(query): Query<TokenQuery>) -> poem::Result<Response> {
    page(VERIFY, query.token, false, None, None)
}

#[handler]
pub(crate) async fn verify_submit(platform: Data<&Platform>, Form(form): Form<LinkForm>) -> poem::Result<Response> {
    match accounts::verify_email(&platform, &form.token).await {
        Ok(()) => {
            page(VERIFY, String::new(), false, None, Some("Thank you: your email is confirmed. Go back to the app."))
        }
        Err(err) => page(VERIFY, form.token, false, Some(message(err)?), None),
    }
}

#[handler]
pub(crate) fn reset_page(Query(query): Query<TokenQuery>) -> poem::Result<Response> {
    page(RESET, query.token, true, None, None)
}

#[handler]
pub(crate) async fn reset_submit(platform: Data<&Platform>, Form(form): Form<LinkForm>) -> poem::Result<Response> {
    match accounts::reset_password(&platform, &form.token, &form.password).await {
        Ok(()) => page(RESET, String::new(), true, None, Some("Your password is changed. Log in to the app with it.")),
        Err(err) => page(RESET, form.token, true, Some(message(err)?), None),
    }
}

/// A favourite selfie shown by a notification (push services fetch it
/// without a login): the signed link is the key, and it works while the
/// selfie stays hearted.
#[handler]
pub(crate) async fn favourite_selfie(platform: Data<&Platform>, Path(file): Path<String>) -> poem::Result<Response> {
    let token = file.strip_suffix(".jpg").unwrap_or(&file);
    match selfies::favourite_photo(&platform, token).await {
        Ok(bytes) => Ok(Response::builder()
            .content_type("image/jpeg")
            .header("cache-control", "public, max-age=3600")
            .body(bytes)),
        Err(DomainError::NotFound) => Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
        Err(err) => Err(crate::kit::chrome::server_error(err)),
    }
}
