//! Signing in and out: the API's login, second factor and logout, and the
//! login pages' cookie flows.

use askama::Template;
use chrono::{DateTime, Utc};
use petbridge_domain::{
    Code, Platform,
    kernel::tokens,
    practices,
    staff::{accounts, sessions, two_factor},
};
use petbridge_http::{ApiResult, RequestContext};
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Form, Query, Redirect},
};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde::Deserialize;

use crate::{
    kit::{
        auth::{SESSION_COOKIE, StaffAuth, StaffPage, cookie_value, safe_next, set_cookie},
        chrome::{CsrfForm, render, server_error},
        tags::Tag,
    },
    staff::api::StaffMember,
};

/// A user name and password for a practice.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// The practice code shown on the login page.
    #[oai(validator(max_length = 48))]
    pub practice: String,
    /// The user name.
    #[oai(validator(max_length = 64))]
    pub username: String,
    /// The password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// A new session.
#[derive(Debug, Object)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. When `second_factor_required`
    /// is true it is good only for `POST /auth/second-factor`.
    pub token: String,
    /// The account uses two-factor login: send a code from the
    /// authenticator app (or a recovery code) within five minutes.
    pub second_factor_required: bool,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub staff: StaffMember,
}

/// Logged out.
#[derive(ApiResponse)]
enum LoggedOut {
    /// The session is ended.
    #[oai(status = 204)]
    Done,
}

/// The second step of a two-factor login.
#[derive(Debug, Object)]
pub struct SecondFactor {
    /// The token `POST /auth/login` returned.
    pub token: String,
    /// A code from the authenticator app, or a recovery code.
    #[oai(validator(max_length = 32))]
    pub code: String,
}

/// The login form's CSRF cookie (double submit: cookie and hidden field must match).
const LOGIN_CSRF_COOKIE: &str = "pb_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    /// The practice code, prefilled when the deployment has one practice.
    practice: String,
    /// Hide the practice field (one practice only).
    sole_practice: bool,
    username: String,
    csrf: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_form(
    platform: &Platform,
    context: &RequestContext,
    practice: String,
    username: String,
    next: &str,
    error: Option<&'static str>,
) -> poem::Result<Response> {
    let sole = practices::sole(platform).await.map_err(server_error)?;
    let csrf = tokens::random_token().map_err(server_error)?;
    let template = LoginTemplate {
        practice: sole.as_ref().map_or(practice, |p| p.slug.clone()),
        sole_practice: sole.is_some(),
        username,
        csrf: csrf.clone(),
        next: next.to_owned(),
        error,
    };
    let mut response = render(&template)?;
    if error.is_some() {
        response.set_status(StatusCode::UNAUTHORIZED);
    }
    if let Ok(value) = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600, context.secure).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[handler]
pub(crate) async fn login_page(
    req: &Request,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Query(query): Query<LoginQuery>,
) -> poem::Result<Response> {
    let next = safe_next(query.next.as_deref());
    if let Some(token) = cookie_value(req, SESSION_COOKIE)
        && sessions::authenticate(&platform, &token).await.is_ok()
    {
        return Ok(Redirect::see_other(next).into_response());
    }
    login_form(&platform, &context, String::new(), String::new(), next, None).await
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    practice: String,
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// Told for every kind of failed login: it never says which part was wrong.
const LOGIN_FAILED: &str =
    "Those details don't match an active account. Check the practice code, user name and password.";

#[handler]
pub(crate) async fn login_submit(
    req: &Request,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<LoginForm>,
) -> poem::Result<Response> {
    let next = safe_next(form.next.as_deref());
    let cookie_csrf = cookie_value(req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_csrf.is_empty() || !tokens::same_secret(&cookie_csrf, &form.csrf) {
        return login_form(
            &platform,
            &context,
            form.practice,
            form.username,
            next,
            Some("Your login form expired. Please try again."),
        )
        .await;
    }
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    match accounts::log_in(&platform, &form.practice, &form.username, &form.password, &context.origin, user_agent).await
    {
        Ok(logged_in) if logged_in.second_factor_required => {
            code_form(&context, &logged_in.session.token, next, None, StatusCode::OK)
        }
        Ok(logged_in) => {
            let max_age = (logged_in.session.expires_at - platform.clock.now()).num_seconds();
            let mut response = Redirect::see_other(next).into_response();
            for cookie in [
                set_cookie(SESSION_COOKIE, &logged_in.session.token, max_age, context.secure),
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, context.secure),
            ] {
                if let Ok(value) = cookie.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(petbridge_domain::DomainError::Failed(code, _)) if code.kind() == petbridge_domain::Kind::Unauthorized => {
            login_form(&platform, &context, form.practice, form.username, next, Some(LOGIN_FAILED)).await
        }
        Err(err) => Err(server_error(err)),
    }
}

/// The pending two-factor login's cookie: the password was right, a code is due.
const PENDING_COOKIE: &str = "pb_pending";

#[derive(Template)]
#[template(path = "login_code.html")]
struct LoginCodeTemplate {
    csrf: String,
    next: String,
    error: Option<&'static str>,
}

fn code_form(
    context: &RequestContext,
    pending: &str,
    next: &str,
    error: Option<&'static str>,
    status: StatusCode,
) -> poem::Result<Response> {
    let csrf = tokens::random_token().map_err(server_error)?;
    let mut response = render(&LoginCodeTemplate { csrf: csrf.clone(), next: next.to_owned(), error })?;
    response.set_status(status);
    let window = petbridge_domain::staff::sessions::SECOND_FACTOR_WINDOW.num_seconds();
    for cookie in [
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, window, context.secure),
        set_cookie(PENDING_COOKIE, pending, window, context.secure),
    ] {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    csrf: String,
    next: Option<String>,
}

#[handler]
pub(crate) async fn login_code(
    req: &Request,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<CodeForm>,
) -> poem::Result<Response> {
    let next = safe_next(form.next.as_deref());
    let cookie_csrf = cookie_value(req, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let Some(pending) = cookie_value(req, PENDING_COOKIE) else {
        return Ok(Redirect::see_other("/login").into_response());
    };
    if cookie_csrf.is_empty() || !tokens::same_secret(&cookie_csrf, &form.csrf) {
        return code_form(
            &context,
            &pending,
            next,
            Some("Your login form expired. Please try again."),
            StatusCode::UNAUTHORIZED,
        );
    }
    match petbridge_domain::staff::two_factor::complete_login(&platform, &pending, &form.code, &context.origin).await {
        Ok(session) => {
            let max_age = (session.expires_at - platform.clock.now()).num_seconds();
            let mut response = Redirect::see_other(next).into_response();
            for cookie in [
                set_cookie(SESSION_COOKIE, &session.token, max_age, context.secure),
                set_cookie(PENDING_COOKIE, "", 0, context.secure),
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, context.secure),
            ] {
                if let Ok(value) = cookie.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(petbridge_domain::DomainError::Failed(code, _)) if code.kind() == petbridge_domain::Kind::Unauthorized => {
            code_form(
                &context,
                &pending,
                next,
                Some("That code is not right, or it has been used."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(err) => Err(server_error(err)),
    }
}

#[handler]
pub(crate) async fn logout(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    context: Data<&RequestContext>,
    Form(form): Form<CsrfForm>,
) -> poem::Result<Response> {
    if !tokens::same_secret(&form.csrf, &principal.csrf_token) {
        return Err(poem::Error::from_response(petbridge_http::problem_response(Code::CsrfFailed, None)));
    }
    accounts::log_out(&platform, &principal, &context.origin).await.map_err(server_error)?;
    let mut response = Redirect::see_other("/login").into_response();
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", 0, context.secure).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// This feature's operations of the staff API.
pub struct SignInApi;

#[OpenApi]
impl SignInApi {
    /// Log in with a practice code, user name and password.
    ///
    /// A wrong practice, user name or password, and a locked account, all
    /// answer 401 `invalid_credentials`: the answer never says which.
    #[oai(path = "/auth/login", method = "post", tag = "Tag::Auth", operation_id = "login")]
    async fn login(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        let logged_in =
            accounts::log_in(&platform, &body.practice, &body.username, &body.password, &context.origin, None).await?;
        Ok(Json(LoginResponse {
            token: logged_in.session.token,
            second_factor_required: logged_in.second_factor_required,
            expires_at: logged_in.session.expires_at,
            staff: logged_in.staff.into(),
        }))
    }
    /// Complete a two-factor login with a code from the authenticator app or
    /// a recovery code. Five wrong codes abandon the login.
    #[oai(path = "/auth/second-factor", method = "post", tag = "Tag::Auth", operation_id = "completeSecondFactor")]
    async fn second_factor(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<SecondFactor>,
    ) -> ApiResult<Json<LoginResponse>> {
        let session = two_factor::complete_login(&platform, &body.token, &body.code, &context.origin).await?;
        let principal = sessions::authenticate(&platform, &session.token).await?;
        let staff = accounts::get(&platform, principal.scope(), principal.staff_id).await?;
        Ok(Json(LoginResponse {
            token: session.token,
            second_factor_required: false,
            expires_at: session.expires_at,
            staff: staff.into(),
        }))
    }
    /// End the current session.
    #[oai(path = "/auth/logout", method = "post", tag = "Tag::Auth", operation_id = "logout")]
    async fn logout(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<LoggedOut> {
        accounts::log_out(&platform, auth.principal(), &context.origin).await?;
        Ok(LoggedOut::Done)
    }
}
