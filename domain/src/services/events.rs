//! Live events for the people watching a practice (the dashboard socket):
//! published on the bus after the change they describe is committed, so a
//! listener never hears of something it cannot read back.

use bytes::Bytes;
use serde::Serialize;
use uuid::Uuid;

use crate::{DomainResult, Platform};

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
}

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryState {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its status (`queued`, `sent`, `failed`, `dead`, `skipped`).
    pub status: String,
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

/// The JSON frame an event travels as.
pub fn frame(event: &PracticeEvent) -> Bytes {
    Bytes::from(serde_json::to_vec(&Frame { v: EVENT_VERSION, event }).unwrap_or_default())
}

/// Tells every instance's listeners of a practice about `event`.
pub async fn publish(platform: &Platform, practice_id: Uuid, event: &PracticeEvent) -> DomainResult<()> {
    platform.bus.publish(&practice_topic(practice_id), frame(event)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_version_and_type() {
        let id = Uuid::nil();
        let state = DeliveryState { delivery_id: id, status: "sent".into(), attempts: 1 };
        let event = PracticeEvent::DeliveriesUpdated { deliveries: vec![state] };
        let value: serde_json::Value = serde_json::from_slice(&frame(&event)).unwrap_or_default();
        assert_eq!(value["v"], 1);
        assert_eq!(value["type"], "deliveries.updated");
        assert_eq!(value["deliveries"][0]["status"], "sent");
        assert_eq!(value["deliveries"][0]["delivery_id"], id.to_string());
    }
}
