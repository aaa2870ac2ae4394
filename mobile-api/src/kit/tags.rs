//! The sections of the app API document, one list for every feature.

use poem_openapi::Tags;

/// The app API's sections.
#[derive(Tags)]
pub(crate) enum Tag {
    /// The conversation with the practice, and its realtime socket.
    Chat,
    /// One-way notifications from the practice.
    Notifications,
    /// Pets, reminders and appointments.
    Pets,
    /// Photos sent to the practice, and the home-screen slideshow.
    Selfies,
    /// Loyalty paws and rewards.
    Rewards,
    /// Orders (refills) and appointment requests.
    Requests,
    /// The household's wellness plans.
    Plans,
    /// The household's card on file, and paying what was declined.
    Payments,
    /// Before login: the practice the app is branded for.
    Practice,
    /// Sign-up, login, tokens, email verification, password reset.
    Auth,
    /// The owner's own account and devices.
    Account,
}
