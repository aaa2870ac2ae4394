//! A pet's open health-service reminders, as both APIs show them.

use chrono::NaiveDate;
use petbridge_domain::db::entities::reminder;
use poem_openapi::Object;

/// A health-service reminder.
#[derive(Debug, Object)]
pub struct Reminder {
    /// The service, e.g. "Rabies vaccine".
    pub service: String,
    /// When it is due.
    pub due_on: NaiveDate,
    /// Whether that day has passed.
    pub past_due: bool,
}

impl Reminder {
    /// `reminders` as they stand on `today`.
    pub fn all_on(reminders: Vec<reminder::Model>, today: NaiveDate) -> Vec<Self> {
        reminders
            .into_iter()
            .map(|r| Self { past_due: r.due_on < today, service: r.service, due_on: r.due_on })
            .collect()
    }
}
