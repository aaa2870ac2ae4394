//! The dashboard's live socket (`/ws/dashboard`): the practice's events as
//! they happen, so pages update without a reload, and its chat (the frames
//! are in `docs/chat-protocol.md`). It authenticates with the session
//! cookie and accepts only pages of this site (Origin check), which is what
//! keeps another site from riding a staff member's cookie.

use petbridge_domain::{Code, Platform, staff::sessions};
use petbridge_http::problem_response;
use petbridge_realtime::socket::{self, Peer};
use poem::{
    IntoResponse, Request, Response, handler,
    http::header,
    web::{Data, websocket::WebSocket},
};

use crate::kit::auth::{SESSION_COOKIE, cookie_value};

/// Whether the page that opened the socket is one of ours: its Origin must
/// name the host the request was sent to.
fn same_origin(req: &Request) -> bool {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin.and_then(|o| url::Url::parse(o).ok()), host) {
        (Some(origin), Some(host)) => {
            let origin_host = match (origin.host_str(), origin.port()) {
                (Some(name), Some(port)) => format!("{name}:{port}"),
                (Some(name), None) => name.to_owned(),
                _ => return false,
            };
            origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// Opens the live socket for a signed-in staff member.
#[handler]
pub async fn dashboard_socket(req: &Request, ws: WebSocket, platform: Data<&Platform>) -> Response {
    if !same_origin(req) {
        return problem_response(Code::OriginNotAllowed, None);
    }
    let Some(token) = cookie_value(req, SESSION_COOKIE) else {
        return problem_response(Code::Unauthorized, None);
    };
    let principal = match sessions::authenticate(&platform, &token).await {
        Ok(principal) => principal,
        Err(_) => return problem_response(Code::SessionInvalid, None),
    };
    let platform = platform.clone();
    ws.config(socket::socket_config())
        .on_upgrade(move |socket| socket::serve(socket, platform, Peer::Staff { principal, token }))
        .into_response()
}
