//! A websocket client for tests: connect with headers, read JSON frames
//! (pings answered, with a timeout instead of sleeps), send JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

/// An open test socket.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

impl WsClient {
    /// Opens `url` (`ws://…`) with extra request headers (Cookie, Origin…).
    pub async fn connect(url: &str, headers: &[(&'static str, String)]) -> Result<Self, Box<tungstenite::Error>> {
        let mut request = url.into_client_request().map_err(Box::new)?;
        for (name, value) in headers {
            request.headers_mut().insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await.map_err(Box::new)?;
        Ok(Self { stream })
    }

    /// The next JSON frame, waiting at most 10 seconds.
    pub async fn next_json(&mut self) -> Value {
        self.try_next_json(Duration::from_secs(10)).await.expect("a frame in time")
    }

    /// The next JSON frame within `wait`, or `None` when none came (or the socket closed).
    pub async fn try_next_json(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()??;
            match message.ok()? {
                Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON frame")),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next frame of `kind` (its `type`), skipping others, within 10 seconds.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.try_next_json(left).await.unwrap_or_else(|| panic!("no {kind} frame in time"));
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Sends a JSON frame.
    pub async fn send_json(&mut self, value: &Value) {
        self.stream.send(Message::Text(value.to_string().into())).await.expect("send");
    }

    /// Sends JSON frames in one write, as an app flushing its queue does.
    pub async fn send_burst(&mut self, values: &[Value]) {
        for value in values {
            self.stream.feed(Message::Text(value.to_string().into())).await.expect("feed");
        }
        self.stream.flush().await.expect("flush");
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
