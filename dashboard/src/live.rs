//! The dashboard's live socket (`/ws/dashboard`): the practice's events as
//! they happen, so pages update without a reload. It authenticates with the
//! session cookie and accepts only pages of this site (Origin check), which
//! is what keeps another site from riding a staff member's cookie.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use petbridge_domain::{
    Platform,
    services::{events, sessions, sessions::StaffPrincipal},
};
use petbridge_http::problem_response;
use poem::{
    IntoResponse, Request, Response, handler,
    http::{StatusCode, header},
    web::{
        Data,
        websocket::{CloseCode, Message, WebSocket, WebSocketConfig},
    },
};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{SESSION_COOKIE, cookie_value};

/// How often the server pings; a socket that has not answered the previous
/// ping by then is closed, and the session is checked again.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// Small buffers: most sockets sit idle, and their memory is what limits how
/// many one server holds (the default read buffer is 128 KiB per socket).
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

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
        return problem_response(StatusCode::FORBIDDEN, "origin_not_allowed", None);
    }
    let Some(token) = cookie_value(req, SESSION_COOKIE) else {
        return problem_response(StatusCode::UNAUTHORIZED, "unauthorized", None);
    };
    let principal = match sessions::authenticate(&platform, &token).await {
        Ok(principal) => principal,
        Err(_) => return problem_response(StatusCode::UNAUTHORIZED, "session_invalid", None),
    };
    let platform = platform.clone();
    ws.config(socket_config()).on_upgrade(move |socket| serve(socket, platform, principal, token)).into_response()
}

async fn serve(
    socket: poem::web::websocket::WebSocketStream,
    platform: Platform,
    principal: StaffPrincipal,
    token: String,
) {
    let (mut sink, mut stream) = socket.split();
    let mut practice_events = platform.bus.subscribe(&events::practice_topic(principal.practice_id));
    let hello = serde_json::json!({ "v": events::EVENT_VERSION, "type": "hello", "staff": principal.username });
    if sink.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let mut answered = true;
    loop {
        tokio::select! {
            event = practice_events.recv() => match event {
                Ok(frame) => {
                    let text = String::from_utf8_lossy(&frame).into_owned();
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    // Too slow to keep up: tell the page to reload what it shows.
                    let reset = serde_json::json!({ "v": events::EVENT_VERSION, "type": "reset", "missed": missed });
                    if sink.send(Message::Text(reset.to_string())).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Pong(_))) => answered = true,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                let live = sessions::still_live(&platform, &token).await;
                if !answered || !live {
                    let reason = if live { "no answer to ping" } else { "session ended" };
                    let _ = sink.send(Message::Close(Some((CloseCode::Policy, reason.to_owned())))).await;
                    break;
                }
                answered = false;
                if sink.send(Message::Ping(Vec::new())).await.is_err() {
                    break;
                }
            }
        }
    }
}
