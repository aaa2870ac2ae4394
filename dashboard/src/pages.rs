//! The web dashboard: server-rendered pages embedded in the binary, with a
//! little JavaScript and no build step.

use askama::Template;
use petbridge_domain::{
    Code, Cursor, Platform, activity as activity_log,
    db::entities::{activity, delivery},
    deliveries::outbox,
    kernel::{caller::StaffPrincipal, permissions::Permission, tokens},
    practices,
    staff::{accounts, sessions},
};
use petbridge_http::RequestContext;
use poem::{
    EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::{StatusCode, header},
    post,
    web::{Data, Form, Html, Query, Redirect},
};
use rust_embed::RustEmbed;
use serde::Deserialize;

use crate::auth::{SESSION_COOKIE, StaffPage, cookie_value, private_page, safe_next, set_cookie, url_encode};

/// The login form's CSRF cookie (double submit: cookie and hidden field must match).
const LOGIN_CSRF_COOKIE: &str = "pb_login_csrf";

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The dashboard's routes: `/`, `/login`, `/logout`, `/dashboard/…`, `/ws/dashboard`, `/assets/…`, and
/// the owners' email-link pages `/app/…` and `/preferences/…`.
pub fn routes() -> Route {
    Route::new()
        .at("/", get(root))
        .at("/login", get(login_page).post(login_submit))
        .at("/login/code", post(login_code))
        .at("/logout", post(logout))
        .at("/dashboard", get(home))
        .at("/dashboard/outbox", get(outbox_page))
        .at("/ws/dashboard", get(crate::live::dashboard_socket))
        .at("/app/verify-email", get(crate::owner_pages::verify_page).post(crate::owner_pages::verify_submit))
        .at("/app/reset-password", get(crate::owner_pages::reset_page).post(crate::owner_pages::reset_submit))
        .at("/preferences/:token", get(crate::preference_pages::page).post(crate::preference_pages::save))
        .at("/media/selfies/:file", get(crate::owner_pages::favourite_selfie))
        .at(
            "/preferences/:token/unsubscribe",
            get(crate::preference_pages::page).post(crate::preference_pages::unsubscribe),
        )
        .at("/dashboard/chat", get(crate::chat_pages::chat_page))
        .at("/dashboard/loyalty", get(crate::loyalty_pages::loyalty_page))
        .at("/dashboard/clients", get(crate::client_pages::list))
        .at("/dashboard/clients/invite", post(crate::client_pages::invite))
        .at("/dashboard/clients/:id", get(crate::client_pages::detail))
        .at("/dashboard/clients/:id/note", post(crate::client_pages::set_note))
        .at("/dashboard/clients/:id/notify", post(crate::client_pages::notify))
        .at("/dashboard/clients/:id/:action", post(crate::client_pages::client_action))
        .at("/dashboard/pets/:id/:action", post(crate::client_pages::pet_action))
        .at("/dashboard/sync", get(crate::client_pages::sync_page))
        .at("/dashboard/sync/keys", post(crate::client_pages::create_key))
        .at("/dashboard/sync/keys/:id/:action", post(crate::client_pages::key_action))
        .at("/dashboard/users", get(crate::admin_pages::users).post(crate::admin_pages::add_user))
        .at("/dashboard/users/:id", post(crate::admin_pages::edit_user))
        .at("/dashboard/users/:id/:action", post(crate::admin_pages::user_action))
        .at("/dashboard/activity", get(crate::admin_pages::activity_page))
        .at("/dashboard/profile", get(crate::admin_pages::profile).post(crate::admin_pages::update_profile))
        .at("/dashboard/performance", get(crate::admin_pages::performance_page))
        .at("/dashboard/performance/goals", post(crate::admin_pages::set_goal))
        .at("/dashboard/profile/password", post(crate::admin_pages::change_password))
        .at("/dashboard/profile/two-factor", post(crate::admin_pages::two_factor_start))
        .at("/dashboard/profile/two-factor/confirm", post(crate::admin_pages::two_factor_confirm))
        .at("/dashboard/profile/two-factor/disable", post(crate::admin_pages::two_factor_disable))
        .at("/dashboard/activity/export", get(crate::admin_pages::activity_export))
        .nest("/assets", poem::endpoint::EmbeddedFilesEndpoint::<Assets>::new().map_to_response())
}

/// A navigation entry; areas that have not shipped yet show without a link,
/// and areas the signed-in level may not use do not show at all.
pub(crate) struct NavItem {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) href: Option<&'static str>,
    needs: Option<Permission>,
}

const NAV: [NavItem; 13] = [
    NavItem { key: "home", label: "Home", href: Some("/dashboard"), needs: None },
    NavItem { key: "clients", label: "Users", href: Some("/dashboard/clients"), needs: Some(Permission::ClientsView) },
    NavItem { key: "chat", label: "Chat", href: Some("/dashboard/chat"), needs: Some(Permission::ChatView) },
    NavItem { key: "notifications", label: "Notifications", href: None, needs: None },
    NavItem {
        key: "loyalty",
        label: "Loyalty",
        href: Some("/dashboard/loyalty"),
        needs: Some(Permission::ClientsView),
    },
    NavItem { key: "plans", label: "Wellness plans", href: None, needs: None },
    NavItem { key: "reports", label: "Reports", href: None, needs: Some(Permission::ReportsMost) },
    NavItem { key: "outbox", label: "Outbox", href: Some("/dashboard/outbox"), needs: Some(Permission::OutboxView) },
    NavItem { key: "staff", label: "Staff", href: Some("/dashboard/users"), needs: Some(Permission::UsersManage) },
    NavItem {
        key: "activity",
        label: "Activity log",
        href: Some("/dashboard/activity"),
        needs: Some(Permission::ActivityLogView),
    },
    NavItem {
        key: "performance",
        label: "Performance",
        href: Some("/dashboard/performance"),
        needs: Some(Permission::PerformanceManage),
    },
    NavItem { key: "sync", label: "PMS sync", href: Some("/dashboard/sync"), needs: Some(Permission::AdminTools) },
    NavItem { key: "docs", label: "API docs", href: Some("/docs"), needs: None },
];

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub(crate) practice_name: String,
    pub(crate) display_name: String,
    pub(crate) level: &'static str,
    pub(crate) csrf: String,
    pub(crate) active: &'static str,
    pub(crate) nav: Vec<&'static NavItem>,
    /// The development providers' warning, on every page while it holds.
    pub(crate) dev_warning: Option<String>,
}

impl Chrome {
    pub(crate) async fn new(
        platform: &Platform,
        principal: &StaffPrincipal,
        active: &'static str,
    ) -> poem::Result<Self> {
        let practice = practices::get(platform, principal.scope()).await.map_err(server_error)?;
        Ok(Self {
            practice_name: practice.name,
            display_name: principal.display_name.clone(),
            level: principal.level.label(),
            csrf: principal.csrf_token.clone(),
            active,
            nav: NAV.iter().filter(|item| item.needs.is_none_or(|p| principal.level.grants(p))).collect(),
            dev_warning: platform.dev_delivery_warning.clone(),
        })
    }
}

/// What a page tells its user about a refused action: the service's detail,
/// or its code's message from the one table; `None` for what is not theirs
/// to fix (a missing record, an unexpected failure).
pub(crate) fn people_message(err: &petbridge_domain::DomainError) -> Option<String> {
    matches!(err, petbridge_domain::DomainError::Failed(..)).then(|| err.message())
}

pub(crate) fn server_error(err: impl std::fmt::Display) -> poem::Error {
    tracing::error!(error = %err, "page failed");
    poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) fn render(template: &impl Template) -> poem::Result<Response> {
    let html = template.render().map_err(server_error)?;
    Ok(private_page(Html(html).into_response()))
}

#[handler]
fn root() -> Redirect {
    Redirect::see_other("/dashboard")
}

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
async fn login_page(
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
async fn login_submit(
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
async fn login_code(
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

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[handler]
async fn logout(
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

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    chrome: Chrome,
    practice_code: String,
    time_zone: String,
    staff_count: usize,
    delivery_counts: Vec<(String, i64)>,
    /// Only for those who may read the activity log.
    activity: Option<Vec<activity::Model>>,
}

#[handler]
async fn home(StaffPage(principal): StaffPage, platform: Data<&Platform>) -> poem::Result<Response> {
    let scope = principal.scope();
    let practice = practices::get(&platform, scope).await.map_err(server_error)?;
    let template = HomeTemplate {
        chrome: Chrome::new(&platform, &principal, "home").await?,
        practice_code: practice.slug,
        time_zone: practice.time_zone.name().to_owned(),
        staff_count: accounts::list(&platform, scope).await.map_err(server_error)?.len(),
        delivery_counts: outbox::counts(&platform, scope).await.map_err(server_error)?,
        activity: if principal.level.grants(Permission::ActivityLogView) {
            Some(activity_log::recent(&platform, scope, 10).await.map_err(server_error)?)
        } else {
            None
        },
    };
    render(&template)
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxTemplate {
    chrome: Chrome,
    deliveries: Vec<delivery::Model>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct OutboxQuery {
    after: Option<String>,
}

#[handler]
async fn outbox_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<OutboxQuery>,
) -> poem::Result<Response> {
    let after = match query.after.as_deref().map(Cursor::decode).transpose() {
        Ok(after) => after,
        Err(_) => return Ok(Redirect::see_other("/dashboard/outbox").into_response()),
    };
    let page = outbox::list(&platform, principal.scope(), after, 50).await.map_err(server_error)?;
    let template = OutboxTemplate {
        chrome: Chrome::new(&platform, &principal, "outbox").await?,
        deliveries: page.items,
        next: page.next.map(|cursor| url_encode(&cursor.encode())),
    };
    render(&template)
}
