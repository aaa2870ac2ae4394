//! Communication preferences as both APIs show them: the owner's app and
//! the staff dashboard read and change the same record.

use petbridge_domain::households::preferences::{PreferenceChange, Preferences};
use poem_openapi::Object;

/// What a household agreed to receive. Account mail (email confirmation,
/// password reset) is sent regardless.
#[derive(Debug, Clone, Object)]
pub struct CommunicationPreferences {
    /// Surveys after a visit.
    pub post_visit_surveys: bool,
    /// Reminders of due health services and of appointments.
    pub postcard_reminders: bool,
    /// Emails from the practice.
    pub email: bool,
    /// Texts, including two-way texting with the practice.
    pub two_way_texts: bool,
    /// Push notifications in the app.
    pub push: bool,
}

impl From<Preferences> for CommunicationPreferences {
    fn from(p: Preferences) -> Self {
        Self {
            post_visit_surveys: p.post_visit_surveys,
            postcard_reminders: p.postcard_reminders,
            email: p.email,
            two_way_texts: p.two_way_texts,
            push: p.push,
        }
    }
}

/// A change to the preferences: fields left out stay as they are.
#[derive(Debug, Clone, Default, Object)]
pub struct PreferencesChange {
    /// Surveys after a visit.
    pub post_visit_surveys: Option<bool>,
    /// Reminders of due health services and of appointments.
    pub postcard_reminders: Option<bool>,
    /// Emails from the practice.
    pub email: Option<bool>,
    /// Texts.
    pub two_way_texts: Option<bool>,
    /// Push notifications.
    pub push: Option<bool>,
}

impl From<PreferencesChange> for PreferenceChange {
    fn from(c: PreferencesChange) -> Self {
        Self {
            post_visit_surveys: c.post_visit_surveys,
            postcard_reminders: c.postcard_reminders,
            email: c.email,
            two_way_texts: c.two_way_texts,
            push: c.push,
        }
    }
}
