//! Publish/subscribe between server instances: chat events, live dashboard
//! updates. In-process channels when there is one instance; Redis pub/sub
//! when there are several.
//!
//! Every instance keeps one local hub of topics. The Redis adapter holds a
//! single pattern subscription per instance and feeds what arrives into that
//! hub, so a topic costs nothing on Redis and a socket never opens its own
//! Redis connection.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::{DomainError, DomainResult};

/// How many events a subscriber of a busy topic (a whole practice's) may
/// fall behind before it is told it lagged.
pub const BUSY_TOPIC: usize = 1024;

/// The same for a quiet topic (one conversation's). Its ring is allocated
/// whole for each topic that has a subscriber, and every idle app socket has
/// one: a lagging socket catches up from the table instead.
pub const QUIET_TOPIC: usize = 16;

/// Topics and their subscribers.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Sends `payload` to every subscriber of `topic` on every instance.
    async fn publish(&self, topic: &str, payload: Bytes) -> DomainResult<()>;
    /// Receives what is published on `topic` from now on; the first
    /// subscriber sets how far behind its subscribers may fall (`capacity`:
    /// [`BUSY_TOPIC`] or [`QUIET_TOPIC`]).
    fn subscribe(&self, topic: &str, capacity: usize) -> broadcast::Receiver<Bytes>;
    /// Checks that the bus can carry messages (for `/readyz`).
    async fn ping(&self) -> DomainResult<()>;
    /// A name for logs and `/readyz`.
    fn kind(&self) -> &'static str;
}

/// The topics this instance's subscribers listen to.
#[derive(Default, Clone)]
struct LocalHub {
    topics: Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>,
}

impl LocalHub {
    fn subscribe(&self, topic: &str, capacity: usize) -> broadcast::Receiver<Bytes> {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics.entry(topic.to_owned()).or_insert_with(|| broadcast::channel(capacity).0).subscribe()
    }

    fn deliver(&self, topic: &str, payload: Bytes) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = topics.get(topic)
            && sender.send(payload).is_err()
        {
            // Nobody listens any more: forget the topic.
            topics.remove(topic);
        }
    }
}

/// The single-instance bus: tokio channels.
#[derive(Default, Clone)]
pub struct InProcessBus {
    hub: LocalHub,
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, topic: &str, payload: Bytes) -> DomainResult<()> {
        self.hub.deliver(topic, payload);
        Ok(())
    }

    fn subscribe(&self, topic: &str, capacity: usize) -> broadcast::Receiver<Bytes> {
        self.hub.subscribe(topic, capacity)
    }

    async fn ping(&self) -> DomainResult<()> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}

/// The multi-instance bus: Redis PUBLISH out, one PSUBSCRIBE in.
#[derive(Clone)]
pub struct RedisBus {
    publisher: redis::aio::ConnectionManager,
    prefix: String,
    hub: LocalHub,
    listener: Arc<tokio::task::JoinHandle<()>>,
}

impl RedisBus {
    /// Connects, and starts the task that feeds this instance's subscribers.
    /// Every channel is named `{prefix}bus:{topic}`, so deployments and test
    /// runs sharing one Redis never hear each other.
    pub async fn connect(client: redis::Client, prefix: &str) -> DomainResult<Self> {
        let publisher = redis::aio::ConnectionManager::new(client.clone()).await.map_err(DomainError::unexpected)?;
        let hub = LocalHub::default();
        let channel_prefix = format!("{prefix}bus:");
        // Subscribe before returning, so nothing published after `connect`
        // can be missed.
        let pubsub = subscribe_all(&client, &channel_prefix).await?;
        let listener = tokio::spawn(listen(client, pubsub, channel_prefix, hub.clone()));
        Ok(Self { publisher, prefix: prefix.to_owned(), hub, listener: Arc::new(listener) })
    }
}

async fn subscribe_all(client: &redis::Client, channel_prefix: &str) -> DomainResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await.map_err(DomainError::unexpected)?;
    pubsub.psubscribe(format!("{channel_prefix}*")).await.map_err(DomainError::unexpected)?;
    Ok(pubsub)
}

/// Forwards Redis messages to local subscribers; reconnects with backoff
/// when the connection drops (events published meanwhile are lost, which
/// the chat protocol's resume covers).
async fn listen(client: redis::Client, mut pubsub: redis::aio::PubSub, channel_prefix: String, hub: LocalHub) {
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let channel = message.get_channel_name();
                if let Some(topic) = channel.strip_prefix(&channel_prefix) {
                    hub.deliver(topic, Bytes::copy_from_slice(message.get_payload_bytes()));
                }
            }
        }
        tracing::warn!("redis bus subscription dropped; reconnecting");
        let mut delay = Duration::from_millis(100);
        pubsub = loop {
            tokio::time::sleep(delay).await;
            match subscribe_all(&client, &channel_prefix).await {
                Ok(pubsub) => break pubsub,
                Err(err) => {
                    tracing::warn!(error = %err, "redis bus reconnect failed");
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        };
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        // The last clone stops the listener.
        if Arc::strong_count(&self.listener) == 1 {
            self.listener.abort();
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &str, payload: Bytes) -> DomainResult<()> {
        let mut conn = self.publisher.clone();
        let channel = format!("{}bus:{topic}", self.prefix);
        redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload.as_ref())
            .query_async::<i64>(&mut conn)
            .await
            .map_err(DomainError::unexpected)?;
        Ok(())
    }

    fn subscribe(&self, topic: &str, capacity: usize) -> broadcast::Receiver<Bytes> {
        self.hub.subscribe(topic, capacity)
    }

    async fn ping(&self) -> DomainResult<()> {
        let mut conn = self.publisher.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(DomainError::unexpected)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_bus_delivers_to_the_topics_subscribers_only() {
        let bus = InProcessBus::new();
        let mut practice_a = bus.subscribe("practice:a", BUSY_TOPIC);
        let mut practice_b = bus.subscribe("practice:b", BUSY_TOPIC);
        bus.publish("practice:a", Bytes::from_static(b"hello")).await.ok();
        assert_eq!(practice_a.recv().await.ok(), Some(Bytes::from_static(b"hello")));
        assert!(practice_b.try_recv().is_err());
    }
}
