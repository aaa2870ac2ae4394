//! The Loyalty page: reward requests from the app waiting for a decision
//! across the practice, the reward catalogue, and the rule by which synced
//! invoices earn paws. Its forms post to the staff API (`data-api`).

use askama::Template;
use petbridge_domain::{
    Platform,
    db::entities::reward,
    kernel::permissions::Permission,
    loyalty::{self, PendingRequest},
    practices,
};
use poem::{
    Response, handler,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, refuse, render, server_error},
};

#[derive(Template)]
#[template(path = "loyalty.html")]
struct LoyaltyTemplate {
    chrome: Chrome,
    notice: Option<String>,
    pending: Vec<PendingRequest>,
    rewards: Vec<reward::Model>,
    can_decide: bool,
    can_manage: bool,
    can_set_rule: bool,
    /// One paw per this many dollars invoiced, as the form shows it.
    paw_rule_dollars: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct LoyaltyQuery {
    done: Option<String>,
}

/// The Loyalty page.
#[handler]
pub(crate) async fn loyalty_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<LoyaltyQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ClientsView).await? {
        return Ok(refused);
    }
    let scope = principal.scope();
    let practice = practices::get(&platform, scope).await.map_err(server_error)?;
    render(&LoyaltyTemplate {
        chrome: Chrome::new(&platform, &principal, "loyalty").await?,
        notice: query.done,
        pending: loyalty::pending_requests(&platform, scope).await.map_err(server_error)?,
        rewards: loyalty::catalogue(&platform, scope, true).await.map_err(server_error)?,
        can_decide: principal.level.grants(Permission::LoyaltyManage),
        can_manage: principal.level.grants(Permission::RewardsManage),
        can_set_rule: principal.level.grants(Permission::AdminTools),
        paw_rule_dollars: practice.settings.paw_per_invoiced_cents.map(|c| format!("{}.{:02}", c / 100, c % 100)),
    })
}
