//! Live events for the people watching a practice (the dashboard socket):
//! published on the bus after the change they describe is committed, so a
//! listener never hears of something it cannot read back.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    DomainResult, Platform,
    db::entities::{conversation, delivery::DeliveryStatus, message},
};

/// The version of the event frames; bumped when a field changes meaning.
pub const EVENT_VERSION: u32 = 1;

/// Something that changed in a practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum PracticeEvent {
    /// Deliveries' statuses changed: one event per worker step and
    /// practice, however many deliveries it moved.
    #[serde(rename = "deliveries.updated")]
    DeliveriesUpdated {
        /// The deliveries and where each now stands.
        deliveries: Vec<DeliveryState>,
    },
    /// A message was stored in a conversation.
    #[serde(rename = "message")]
    Message {
        /// The message.
        message: ChatMessage,
    },
    /// One side read a conversation up to `seq`.
    #[serde(rename = "read")]
    Read {
        /// The conversation.
        conversation_id: Uuid,
        /// `owner` or `staff`.
        by: String,
        /// The last message read.
        seq: i64,
    },
    /// Someone is typing in a conversation.
    #[serde(rename = "typing")]
    Typing {
        /// The conversation.
        conversation_id: Uuid,
        /// `owner` or `staff`.
        by: String,
        /// Who, as the other side sees them.
        name: String,
    },
    /// A conversation's state changed (new message, read, assigned, closed).
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        /// Where it now stands.
        conversation: ConversationState,
    },
}

/// A chat message as the sockets carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The message.
    pub id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// Its number in the conversation, from 1, without gaps.
    pub seq: i64,
    /// `owner` or `staff`.
    pub author: String,
    /// Who wrote it, as the other side sees them.
    pub author_name: String,
    /// `app` or `sms`.
    pub channel: String,
    /// The sender's own id for it.
    pub client_message_id: Option<String>,
    /// The text (may be empty when a picture is attached).
    pub body: String,
    /// A picture sent with it.
    pub attachment_id: Option<Uuid>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

impl ChatMessage {
    /// The frame form of a stored message.
    pub fn new(message: &message::Model, author_name: String) -> Self {
        Self {
            id: message.id,
            conversation_id: message.conversation_id,
            seq: message.seq,
            author: message.author.clone(),
            author_name,
            channel: message.channel.clone(),
            client_message_id: message.client_message_id.clone(),
            body: message.body.clone(),
            attachment_id: message.attachment_id,
            created_at: message.created_at,
        }
    }
}

/// Where a conversation stands, as the practice's inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationState {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The household.
    pub client_id: Uuid,
    /// Open or closed.
    pub status: conversation::Status,
    /// The staff member it is assigned to.
    pub assigned_to: Option<Uuid>,
    /// The last message's seq.
    pub last_seq: i64,
    /// The last seq the owner read.
    pub owner_read_seq: i64,
    /// The last seq the practice read.
    pub staff_read_seq: i64,
}

impl From<&conversation::Model> for ConversationState {
    fn from(c: &conversation::Model) -> Self {
        Self {
            conversation_id: c.id,
            client_id: c.client_id,
            status: c.status,
            assigned_to: c.assigned_to,
            last_seq: c.last_seq,
            owner_read_seq: c.owner_read_seq,
            staff_read_seq: c.staff_read_seq,
        }
    }
}

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryState {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Where it stands now.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
}

#[derive(Serialize)]
struct Frame<'a> {
    v: u32,
    #[serde(flatten)]
    event: &'a PracticeEvent,
}

/// The bus topic of a practice's events.
pub fn practice_topic(practice_id: Uuid) -> String {
    format!("practice:{practice_id}")
}

/// The bus topic of one conversation's events (what its owner's sockets hear).
pub fn conversation_topic(conversation_id: Uuid) -> String {
    format!("conversation:{conversation_id}")
}

/// Where a frame on the bus is headed, read by every socket without
/// parsing the JSON behind it: the conversation, and a message's seq (0 for
/// anything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The conversation the event is about, if any.
    pub conversation_id: Option<Uuid>,
    /// The message's seq; 0 when the event is not a message.
    pub seq: i64,
}

impl PracticeEvent {
    fn route(&self) -> Route {
        match self {
            PracticeEvent::Message { message } => {
                Route { conversation_id: Some(message.conversation_id), seq: message.seq }
            }
            PracticeEvent::Read { conversation_id, .. } | PracticeEvent::Typing { conversation_id, .. } => {
                Route { conversation_id: Some(*conversation_id), seq: 0 }
            }
            PracticeEvent::ConversationUpdated { conversation } => {
                Route { conversation_id: Some(conversation.conversation_id), seq: 0 }
            }
            PracticeEvent::DeliveriesUpdated { .. } => Route { conversation_id: None, seq: 0 },
        }
    }
}

/// An event as it travels on the bus: one routing line (`<conversation or
/// -> <seq>`), then the JSON frame sockets send on unchanged.
pub fn frame(event: &PracticeEvent) -> Bytes {
    let route = event.route();
    let mut bytes = match route.conversation_id {
        Some(id) => format!("{id} {}\n", route.seq),
        None => format!("- {}\n", route.seq),
    }
    .into_bytes();
    write_json(&mut bytes, event);
    Bytes::from(bytes)
}

/// The JSON frame alone, for a socket that sends an event it built itself.
pub fn json(event: &PracticeEvent) -> Bytes {
    let mut bytes = Vec::new();
    write_json(&mut bytes, event);
    Bytes::from(bytes)
}

fn write_json(bytes: &mut Vec<u8>, event: &PracticeEvent) {
    // Serializing these types cannot fail: no maps with non-string keys.
    let _ = serde_json::to_writer(bytes, &Frame { v: EVENT_VERSION, event });
}

/// Splits a bus frame into its route and its JSON (sharing the bytes).
pub fn split(frame: &Bytes) -> (Route, Bytes) {
    let Some(end) = frame.iter().position(|b| *b == b'\n') else {
        return (Route { conversation_id: None, seq: 0 }, frame.clone());
    };
    let line = std::str::from_utf8(&frame[..end]).unwrap_or_default();
    let mut parts = line.split(' ');
    let conversation_id = parts.next().and_then(|id| Uuid::parse_str(id).ok());
    let seq = parts.next().and_then(|seq| seq.parse().ok()).unwrap_or(0);
    (Route { conversation_id, seq }, frame.slice(end + 1..))
}

/// Tells every instance's listeners of a practice about `event`.
pub async fn publish(platform: &Platform, practice_id: Uuid, event: &PracticeEvent) -> DomainResult<()> {
    platform.bus.publish(&practice_topic(practice_id), frame(event)).await
}

/// Tells the practice and the conversation's owner about `event`.
pub async fn publish_to_conversation(
    platform: &Platform,
    conversation: &conversation::Model,
    event: &PracticeEvent,
) -> DomainResult<()> {
    let frame = frame(event);
    platform.bus.publish(&practice_topic(conversation.practice_id), frame.clone()).await?;
    platform.bus.publish(&conversation_topic(conversation.id), frame).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_frames_are_routed_by_conversation_and_seq() {
        let conversation_id = Uuid::new_v4();
        let event = PracticeEvent::Read { conversation_id, by: "owner".into(), seq: 7 };
        let (route, json) = split(&frame(&event));
        assert_eq!(route, Route { conversation_id: Some(conversation_id), seq: 0 });
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        assert_eq!(value["type"], "read");
        assert_eq!(value["seq"], 7);
    }

    #[test]
    fn frames_carry_version_and_type() {
        let id = Uuid::nil();
        let state = DeliveryState { delivery_id: id, status: DeliveryStatus::Sent, attempts: 1 };
        let event = PracticeEvent::DeliveriesUpdated { deliveries: vec![state] };
        let (route, json) = split(&frame(&event));
        assert_eq!(route, Route { conversation_id: None, seq: 0 });
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        assert_eq!(value["v"], 1);
        assert_eq!(value["type"], "deliveries.updated");
        assert_eq!(value["deliveries"][0]["status"], "sent");
        assert_eq!(value["deliveries"][0]["delivery_id"], id.to_string());
    }
}
