//! Where every feature is mounted: the staff API's operations and the
//! dashboard's pages. The only module that names the features.

use poem::{EndpointExt, Route, get, handler, post, web::Redirect};
use poem_openapi::OpenApi;
use rust_embed::RustEmbed;

use crate::{
    activity, campaigns, chat, deliveries, home, households, loyalty, notifications, owners, performance, plans,
    practices, requests, selfies,
    staff::{self, sign_in},
    sync,
};

/// The staff API (`/api/dashboard/v1`), every feature's operations.
pub fn staff_api() -> impl OpenApi {
    (
        sign_in::SignInApi,
        staff::me::MeApi,
        staff::api::StaffApi,
        deliveries::api::DeliveriesApi,
        activity::api::ActivityApi,
        performance::api::PerformanceApi,
        practices::api::PracticeApi,
        households::api::HouseholdsApi,
        campaigns::api::CampaignsApi,
        sync::api::SyncKeysApi,
        chat::api::ChatApi,
        notifications::api::NotificationsApi,
        loyalty::api::LoyaltyApi,
        requests::api::RequestsApi,
        (selfies::api::SelfiesApi, plans::api::PlansApi, plans::payments::PaymentsApi),
    )
}

/// The PMS sync API (`/api/sync/v1`).
pub fn sync_api() -> impl OpenApi {
    sync::agent::SyncApi
}

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The dashboard's routes: `/`, `/login`, `/logout`, `/dashboard/…`, `/ws/dashboard`, `/assets/…`, and
/// the owners' email-link pages `/app/…`, `/preferences/…` and `/pay/…`.
pub fn pages() -> Route {
    Route::new()
        .at("/", get(root))
        .at("/login", get(sign_in::login_page).post(sign_in::login_submit))
        .at("/login/code", post(sign_in::login_code))
        .at("/logout", post(sign_in::logout))
        .at("/dashboard", get(home::pages::home))
        .at("/dashboard/outbox", get(deliveries::pages::outbox_page))
        .at("/ws/dashboard", get(chat::live::dashboard_socket))
        .at("/app/verify-email", get(owners::pages::verify_page).post(owners::pages::verify_submit))
        .at("/app/reset-password", get(owners::pages::reset_page).post(owners::pages::reset_submit))
        .at("/preferences/:token", get(households::preference_pages::page).post(households::preference_pages::save))
        .at("/media/selfies/:file", get(owners::pages::favourite_selfie))
        .at("/pay/:token", get(plans::pay_pages::page).post(plans::pay_pages::pay))
        .at("/pay/:token/card/setup", post(plans::pay_pages::card_setup))
        .at("/pay/:token/card", post(plans::pay_pages::card))
        .at("/pay/:token/confirmed", post(plans::pay_pages::confirmed))
        .at(
            "/preferences/:token/unsubscribe",
            get(households::preference_pages::page).post(households::preference_pages::unsubscribe),
        )
        .at("/dashboard/chat", get(chat::pages::chat_page))
        .at("/dashboard/loyalty", get(loyalty::pages::loyalty_page))
        .at("/dashboard/plans", get(plans::pages::plans_page))
        .at("/dashboard/clients", get(households::pages::list))
        .at("/dashboard/clients/:id", get(households::pages::detail))
        .at("/dashboard/sync", get(sync::pages::sync_page))
        .at("/dashboard/users", get(staff::pages::users))
        .at("/dashboard/activity", get(activity::pages::activity_page))
        .at("/dashboard/profile", get(staff::pages::profile))
        .at("/dashboard/performance", get(performance::pages::performance_page))
        .at("/dashboard/activity/export", get(activity::pages::activity_export))
        .nest("/assets", poem::endpoint::EmbeddedFilesEndpoint::<Assets>::new().map_to_response())
}

#[handler]
fn root() -> Redirect {
    Redirect::see_other("/dashboard")
}
