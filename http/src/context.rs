//! The request context: a request id carried in the tracing span and the
//! `X-Request-Id` header, the client's address, whether the request came over
//! TLS; and the body limit.

use std::{net::IpAddr, time::Instant};

use petbridge_domain::{Code, Origin, kernel::cards::contains_card_number};
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response, Result,
    http::{HeaderValue, header},
};
use tracing::Instrument;

use crate::problem::problem_response;

/// What handlers know about the request beyond its content.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Request id and client address, for the activity log.
    pub origin: Origin,
    /// Whether the client reached us over TLS (directly or through a trusted proxy).
    pub secure: bool,
}

/// Sets up the [`RequestContext`], a tracing span, and request metrics.
#[derive(Debug, Clone, Copy)]
pub struct Observe {
    /// Believe `X-Forwarded-For` / `X-Forwarded-Proto` (only behind a proxy we run).
    pub trust_proxy: bool,
}

/// The endpoint [`Observe`] wraps.
pub struct ObserveEndpoint<E> {
    inner: E,
    trust_proxy: bool,
}

impl<E: Endpoint> Middleware<E> for Observe {
    type Output = ObserveEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ObserveEndpoint { inner, trust_proxy: self.trust_proxy }
    }
}

fn valid_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn forwarded<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name)?.to_str().ok()
}

/// A short name for the part of the site a path belongs to (metric label).
fn area(path: &str) -> &'static str {
    const AREAS: [(&str, &str); 6] = [
        ("/api/app/", "app_api"),
        ("/api/dashboard/", "dashboard_api"),
        ("/api/sync/", "sync_api"),
        ("/hooks/", "hooks"),
        ("/assets/", "assets"),
        ("/docs", "docs"),
    ];
    AREAS.iter().find(|(prefix, _)| path.starts_with(prefix)).map_or("pages", |(_, name)| name)
}

/// Paths whose next segment is a signed token that opens something without
/// a login (a preference centre, a declined payment's pay page, a favourite
/// selfie's photo).
const SIGNED_PATHS: [&str; 3] = ["/preferences/", "/pay/", "/media/selfies/"];

/// A request path as logs and spans may show it: a signed token in it is
/// replaced by `[redacted]`, and a path holding a card number is not shown
/// at all (query strings are never logged).
pub fn loggable_path(path: &str) -> String {
    if contains_card_number(path.as_bytes()) {
        return "[redacted: a card number]".into();
    }
    for prefix in SIGNED_PATHS {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map_or("", |at| &rest[at..]);
            return format!("{prefix}[redacted]{tail}");
        }
    }
    path.to_owned()
}

impl<E: Endpoint> Endpoint for ObserveEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| valid_request_id(v))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        let peer_ip = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
        let forwarded_ip = self
            .trust_proxy
            .then(|| forwarded(&req, "x-forwarded-for"))
            .flatten()
            .and_then(|list| list.split(',').next())
            .and_then(|first| first.trim().parse::<IpAddr>().ok());
        let secure = req.uri().scheme_str() == Some("https")
            || (self.trust_proxy && forwarded(&req, "x-forwarded-proto") == Some("https"));
        req.set_data(RequestContext {
            origin: Origin {
                request_id: Some(request_id.clone()),
                ip: forwarded_ip.or(peer_ip).map(|ip| ip.to_string()),
            },
            secure,
        });

        let method = req.method().clone();
        let path = loggable_path(req.uri().path());
        let span = tracing::info_span!("request", id = %request_id, %method, %path);
        let started = Instant::now();
        let result = self.inner.call(req).instrument(span.clone()).await;
        let mut response = match result {
            Ok(output) => output.into_response(),
            Err(err) => err.into_response(),
        };
        let status = response.status();
        let elapsed = started.elapsed();
        span.in_scope(|| {
            tracing::info!(status = status.as_u16(), elapsed_ms = elapsed.as_secs_f64() * 1000.0, "handled");
        });
        metrics::histogram!(
            "http_request_duration_seconds",
            "area" => area(&path),
            "status" => status.as_str().to_owned()
        )
        .record(elapsed.as_secs_f64());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        Ok(response)
    }
}

/// Refuses request bodies over the limit with 413 problem+json, whether the
/// client announced the length or streams the body. Uploads (images and
/// other binary bodies) have a limit of their own.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    /// The largest body accepted.
    pub max_bytes: usize,
    /// The largest upload (`image/*`, `application/octet-stream`) accepted.
    pub upload_max_bytes: usize,
    /// The largest PMS sync batch (`/api/sync/…`) accepted.
    pub sync_max_bytes: usize,
}

/// The endpoint [`BodyLimit`] wraps.
pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: BodyLimit,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint { inner, limits: *self }
    }
}

fn too_large(max_bytes: usize) -> Response {
    problem_response(
        Code::PayloadTooLarge,
        Some(format!("request bodies of this kind are limited to {max_bytes} bytes")),
    )
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let is_upload = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("image/") || ct.starts_with("application/octet-stream"));
        let max_bytes = if is_upload {
            self.limits.upload_max_bytes
        } else if req.uri().path().starts_with("/api/sync/") {
            self.limits.sync_max_bytes
        } else {
            self.limits.max_bytes
        };
        let announced =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        match announced {
            Some(length) if length > max_bytes as u64 => return Ok(too_large(max_bytes)),
            Some(_) => {}
            None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
                // A streamed body: read it up to the limit before anyone parses it.
                match req.take_body().into_bytes_limit(max_bytes).await {
                    Ok(bytes) => req.set_body(bytes),
                    Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large(max_bytes)),
                    Err(err) => return Err(err.into()),
                }
            }
            None => {}
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// Refuses, with 422 `card_number_refused`, any request whose path, query
/// or text body holds a card number (PLANS.md B4): cards are typed into the
/// payment gateway's own fields, so one sent here is a mistake, and it is
/// refused before anything reads, stores or logs it. Uploads (pictures)
/// are not text and are not read.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCardNumbers;

/// The endpoint [`NoCardNumbers`] wraps.
pub struct NoCardNumbersEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Middleware<E> for NoCardNumbers {
    type Output = NoCardNumbersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        NoCardNumbersEndpoint { inner }
    }
}

fn card_number_refused() -> Response {
    problem_response(Code::CardNumberRefused, None)
}

impl<E: Endpoint> Endpoint for NoCardNumbersEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        let uri = req.uri();
        if contains_card_number(uri.path().as_bytes())
            || uri.query().is_some_and(|q| contains_card_number(q.as_bytes()))
        {
            return Ok(card_number_refused());
        }
        let binary = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("image/") || ct.starts_with("application/octet-stream"));
        if !binary {
            // The body is bounded already (BodyLimit runs first).
            let body = req.take_body().into_bytes().await?;
            if contains_card_number(&body) {
                return Ok(card_number_refused());
            }
            req.set_body(body);
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn signed_tokens_and_card_numbers_never_reach_the_logs() {
        assert_eq!(loggable_path("/pay/AbC-123_x/card/setup"), "/pay/[redacted]/card/setup");
        assert_eq!(loggable_path("/preferences/AbC/unsubscribe"), "/preferences/[redacted]/unsubscribe");
        assert_eq!(loggable_path("/media/selfies/AbC.jpg"), "/media/selfies/[redacted]");
        assert_eq!(loggable_path("/api/x/4242424242424242"), "[redacted: a card number]");
        assert_eq!(loggable_path("/dashboard/clients"), "/dashboard/clients");
    }
}
