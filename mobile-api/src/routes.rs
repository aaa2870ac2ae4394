//! Where every feature is mounted: the app API's operations and the chat
//! socket. The only module that names the features.

use poem_openapi::OpenApi;

use crate::{chat, households, loyalty, notifications, owners, plans, requests, selfies};

/// The app API (`/api/app/v1`), every feature's operations.
pub fn app_api() -> impl OpenApi {
    (
        owners::api::AccountsApi,
        households::api::HouseholdApi,
        selfies::api::SelfiesApi,
        loyalty::api::LoyaltyApi,
        requests::api::RequestsApi,
        chat::api::ChatApi,
        notifications::api::NotificationsApi,
        plans::api::PlansApi,
        plans::payments::PaymentsApi,
    )
}

pub use chat::api::app_socket;
