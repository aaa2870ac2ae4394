//! The sections of the staff API document, one list for every feature.

use poem_openapi::Tags;

/// The staff API's sections.
#[derive(Tags)]
pub(crate) enum Tag {
    /// View All Users: the practice's staff accounts (administrators).
    Users,
    /// The activity log (administrators).
    Activity,
    /// Reports.
    Reports,
    /// Staff performance: plan points against goals (administrators).
    Performance,
    /// Logging in and out.
    Auth,
    /// The signed-in staff member and their practice.
    Me,
    /// Staff accounts.
    Staff,
    /// Outgoing push notifications, texts and emails, and what became of them.
    Deliveries,
    /// Conversations with clients.
    Chat,
    /// One-way notifications to a client's app.
    Notifications,
    /// The Users list: the practice's clients and their app accounts.
    Clients,
    /// The PMS sync: API keys and batches (administrators).
    Sync,
    /// Practice-wide sends: message-center blasts and Reinvite All.
    Campaigns,
    /// Loyalty paws, rewards and the reward catalogue.
    Loyalty,
    /// Orders and appointment requests made in the app.
    Requests,
    /// Selfies owners sent, and pets they marked inactive.
    Household,
    /// Wellness plans: the practice's plan templates and their versions.
    Plans,
    /// Card payments: cards saved with the payment gateway, and charges.
    Payments,
}
