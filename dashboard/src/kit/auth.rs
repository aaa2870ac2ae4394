//! How staff prove who they are: a bearer token (API clients) or the
//! session cookie (the dashboard in a browser, with a CSRF token on writes).

use petbridge_domain::{
    Code, Origin, Platform,
    kernel::{
        caller::{Authorized, StaffPrincipal},
        permissions::Permission,
        tokens,
    },
    staff::{
        access::{self, Override},
        sessions,
    },
};
use petbridge_http::{ApiError, RequestContext, problem_response};
use poem::{
    FromRequest, Request, RequestBody, Response,
    http::{Method, StatusCode, header},
    web::Redirect,
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme,
    auth::{ApiKey, Bearer},
    registry::Registry,
};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "pb_session";
/// The header that carries the CSRF token on cookie-authenticated API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A staff session token sent as `Authorization: Bearer …` (from `POST /auth/login`).
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct StaffBearer(StaffPrincipal);

/// The dashboard's session cookie; writes also need the `X-CSRF-Token` header.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "pb_session", key_in = "cookie", checker = "check_cookie")]
pub struct StaffCookie(StaffPrincipal);

/// What an administrator who still has to set up a required two-factor
/// login may use.
const SETUP_ALLOWED: [&str; 4] = [
    "/api/dashboard/v1/me",
    "/api/dashboard/v1/me/two-factor",
    "/api/dashboard/v1/me/two-factor/confirm",
    "/api/dashboard/v1/auth/logout",
];

/// A signed-in staff member, by token or by cookie, with the manager
/// override the request carries, if any (see [`OVERRIDE_USERNAME`]): who
/// acts, and who vouches for it, come in together and are checked together
/// ([`authorize`]). A request that sends an `Authorization` header is judged
/// by it alone, so each client sees the error of the scheme it used
/// (`session_invalid`, `csrf_failed`).
pub struct StaffAuth {
    principal: StaffPrincipal,
    manager: Option<Override>,
    origin: Origin,
}

impl<'a> ApiExtractor<'a> for StaffAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        StaffBearer::register(registry);
        StaffCookie::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        [StaffBearer::security_schemes(), StaffCookie::security_schemes()].concat()
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let principal = if req.headers().contains_key(header::AUTHORIZATION) {
            StaffBearer::from_request(req, body, ExtractParamOptions::default()).await?.0
        } else if cookie_value(req, SESSION_COOKIE).is_some() {
            StaffCookie::from_request(req, body, ExtractParamOptions::default()).await?.0
        } else {
            return Err(unauthorized(Code::Unauthorized));
        };
        let origin = req
            .data::<RequestContext>()
            .map(|context| context.origin.clone())
            .ok_or_else(|| poem::Error::from_string("request context missing", StatusCode::INTERNAL_SERVER_ERROR))?;
        let auth = StaffAuth { principal, manager: manager_override(req), origin };
        if auth.principal.two_factor_setup_required && !SETUP_ALLOWED.contains(&req.original_uri().path()) {
            return Err(poem::Error::from_response(problem_response(
                Code::TwoFactorSetupRequired,
                Some("this practice requires two-factor login for administrators: set it up first".to_owned()),
            )));
        }
        Ok(auth)
    }
}

impl StaffAuth {
    /// The staff member behind the request.
    pub fn principal(&self) -> &StaffPrincipal {
        &self.principal
    }

    /// Where the request came from, for the activity log.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
}

fn platform(req: &Request) -> poem::Result<&Platform> {
    req.data::<Platform>()
        .ok_or_else(|| poem::Error::from_string("platform missing", StatusCode::INTERNAL_SERVER_ERROR))
}

fn unauthorized(code: Code) -> poem::Error {
    poem::Error::from_response(problem_response(code, None))
}

async fn principal_for(req: &Request, token: &str) -> poem::Result<StaffPrincipal> {
    sessions::authenticate(platform(req)?, token)
        .await
        .map_err(|err| poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(err))))
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<StaffPrincipal> {
    principal_for(req, &bearer.token).await
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn check_cookie(req: &Request, cookie: ApiKey) -> poem::Result<StaffPrincipal> {
    let principal = principal_for(req, &cookie.key).await?;
    if !is_safe_method(req.method()) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !tokens::same_secret(sent, &principal.csrf_token) {
            return Err(poem::Error::from_response(problem_response(
                Code::CsrfFailed,
                Some("cookie-authenticated writes need the X-CSRF-Token header".to_owned()),
            )));
        }
    }
    Ok(principal)
}

/// A cookie's value.
pub fn cookie_value(req: &Request, name: &str) -> Option<String> {
    req.cookie().get(name).map(|cookie| cookie.value_str().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole-site, Secure over TLS.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
}

/// A dashboard page's signed-in staff member; anyone else is sent to the
/// login page, which brings them back afterwards.
pub struct StaffPage(pub StaffPrincipal);

impl<'a> FromRequest<'a> for StaffPage {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let to_login = || {
            let next = req.uri().path_and_query().map_or("/dashboard", |pq| pq.as_str());
            let location = format!("/login?next={}", url_encode(next));
            poem::Error::from_response(poem::IntoResponse::into_response(Redirect::see_other(location)))
        };
        let Some(token) = cookie_value(req, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match sessions::authenticate(platform(req)?, &token).await {
            Ok(principal)
                if principal.two_factor_setup_required
                    && !req.uri().path().starts_with("/dashboard/profile")
                    && req.uri().path() != "/logout" =>
            {
                let message = "Your practice requires two-factor login for administrators: set it up to go on.";
                let location = format!("/dashboard/profile?done={}", url_encode(message));
                Err(poem::Error::from_response(poem::IntoResponse::into_response(Redirect::see_other(location))))
            }
            Ok(principal) => Ok(StaffPage(principal)),
            Err(petbridge_domain::DomainError::Failed(code, _))
                if code.kind() == petbridge_domain::Kind::Unauthorized =>
            {
                Err(to_login())
            }
            Err(other) => Err(poem::Error::from_response(poem::IntoResponse::into_response(
                petbridge_http::ApiError::from(other),
            ))),
        }
    }
}

/// Percent-encodes text for a query parameter.
pub fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Where to go after login: only a local dashboard path, never another site.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with("/dashboard") && !path.contains("//") && !path.contains('\\') => path,
        _ => "/dashboard",
    }
}

/// A page response that must not be cached (it shows private data).
pub fn private_page(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, poem::http::HeaderValue::from_static("no-store"));
    response
}

/// The headers of a manager override: `X-Override-Username` and
/// `X-Override-Password` (and `X-Override-Code` for a manager who uses a
/// second factor) carry a manager's credentials for this one action, so a
/// staff member's screen needs no new login.
pub const OVERRIDE_USERNAME: &str = "x-override-username";
/// See [`OVERRIDE_USERNAME`].
pub const OVERRIDE_PASSWORD: &str = "x-override-password";
/// See [`OVERRIDE_USERNAME`].
pub const OVERRIDE_CODE: &str = "x-override-code";

/// The manager override `req` carries, if it has both name and password.
fn manager_override(req: &Request) -> Option<Override> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    match (header(OVERRIDE_USERNAME), header(OVERRIDE_PASSWORD)) {
        (Some(username), Some(password)) => Some(Override { username, password, code: header(OVERRIDE_CODE) }),
        _ => None,
    }
}

/// Checks a permission for the caller (with their override, if any).
pub async fn authorize(platform: &Platform, auth: &StaffAuth, permission: Permission) -> Result<Authorized, ApiError> {
    Ok(access::authorize(platform, &auth.principal, permission, auth.manager.as_ref(), &auth.origin).await?)
}
