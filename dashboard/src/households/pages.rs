//! The Users list and a client's page.

use askama::Template;
use petbridge_domain::{
    DomainError, Platform,
    chat::conversations,
    db::entities::{
        activity, message, notification, owner_request, payment_profile, pet::PmsStatus, plan::Status,
        plan_payment::PaymentStatus, reward, reward_request, selfie,
    },
    households::{
        clients::{self, AccountStatus, Audience, ClientDetail, ListQuery, ListRow, SortKey},
        preferences::{self, Preferences},
    },
    kernel::permissions::Permission,
    loyalty::{self, PawCard},
    notifications::{self},
    payments::profiles,
    plans::{
        lifecycle::{self, CancelPreview},
        records::{self, PlanRecord},
        templates::{self as plan_templates, Template as SoldTemplate},
    },
    practices,
    requests::{self, Filter, Kind},
    selfies,
};
use poem::{
    IntoResponse, Response, handler,
    web::{Data, Path, Query, Redirect},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::{
    auth::{StaffPage, url_encode},
    chrome::{Chrome, refuse, render, server_error},
};

/// The Users list's sortable columns, as the page names them.
const COLUMNS: [(&str, &str, SortKey); 6] = [
    ("name", "Name", SortKey::Name),
    ("email", "Email", SortKey::Email),
    ("account_status", "Account status", SortKey::AccountStatus),
    ("account_created", "Account created", SortKey::AccountCreated),
    ("pet_sync_status", "Pet Sync Status", SortKey::PetSyncStatus),
    ("past_due", "Past due", SortKey::PastDue),
];

#[derive(Deserialize, Default, Clone)]
pub(crate) struct ListParams {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    search: String,
    after: Option<String>,
    done: Option<String>,
}

impl ListParams {
    fn sort_key(&self) -> SortKey {
        COLUMNS.iter().find(|(name, _, _)| *name == self.sort).map_or(SortKey::Name, |(_, _, key)| *key)
    }

    fn query(&self) -> ListQuery {
        ListQuery {
            audience: if self.filter == "active" { Audience::ActiveAppUsers } else { Audience::All },
            sort: self.sort_key(),
            descending: self.order == "desc",
            search: Some(self.search.clone()).filter(|s| !s.trim().is_empty()),
            after: self.after.clone(),
            limit: Some(50),
        }
    }

    fn link(&self, filter: &str, sort: &str, order: &str, after: Option<&str>) -> String {
        let mut url = format!("/dashboard/clients?filter={filter}&sort={sort}&order={order}");
        if !self.search.is_empty() {
            url.push_str(&format!("&search={}", url_encode(&self.search)));
        }
        if let Some(after) = after {
            url.push_str(&format!("&after={}", url_encode(after)));
        }
        url
    }
}

struct Header {
    label: &'static str,
    href: String,
    /// `ascending`, `descending` or `none` (aria-sort).
    sorted: &'static str,
    key: &'static str,
}

struct Row {
    row: ListRow,
}

impl Row {
    fn name(&self) -> String {
        let c = &self.row.client;
        match (c.last_name.is_empty(), c.first_name.is_empty()) {
            (false, false) => format!("{}, {}", c.last_name, c.first_name),
            (false, true) => c.last_name.clone(),
            _ => c.first_name.clone(),
        }
    }

    fn status(&self) -> &'static str {
        self.row.status.map_or("—", AccountStatus::label)
    }

    fn created(&self) -> String {
        self.row.client.account_created_at.map(|at| at.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }

    /// One emoji per past-due pet (by species), with its name as the tooltip.
    fn past_due(&self) -> Vec<(&'static str, String)> {
        self.row
            .pets
            .iter()
            .filter(|p| p.past_due)
            .map(|p| (species_emoji(p.species.as_deref()), p.name.clone()))
            .collect()
    }
}

fn species_emoji(species: Option<&str>) -> &'static str {
    match species.map(str::to_lowercase).as_deref() {
        Some(s) if s.contains("dog") || s.contains("canine") => "🐶",
        Some(s) if s.contains("cat") || s.contains("feline") => "🐱",
        Some(s) if s.contains("horse") || s.contains("equine") => "🐴",
        Some(s) if s.contains("bird") || s.contains("avian") => "🐦",
        Some(s) if s.contains("rabbit") => "🐰",
        _ => "🐾",
    }
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsTemplate {
    chrome: Chrome,
    params: ListParams,
    active_only: bool,
    all_href: String,
    active_href: String,
    export_href: String,
    headers: Vec<Header>,
    rows: Vec<Row>,
    next_href: Option<String>,
    first_href: Option<String>,
    can_invite: bool,
    can_reinvite: bool,
}

/// The Users list.
#[handler]
pub(crate) async fn list(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(params): Query<ListParams>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ClientsView).await? {
        return Ok(refused);
    }
    let page = match clients::list(&platform, principal.scope(), &params.query()).await {
        Ok(page) => page,
        // A stale or hand-edited cursor: start over.
        Err(DomainError::Failed(code, _)) if code.kind() == petbridge_domain::Kind::Unprocessable => {
            return Ok(
                Redirect::see_other(params.link(&params.filter, &params.sort, &params.order, None)).into_response()
            );
        }
        Err(err) => return Err(server_error(err)),
    };
    let sort = params.sort_key();
    let descending = params.order == "desc";
    let filter = if params.filter == "active" { "active" } else { "all" };
    let headers = COLUMNS
        .iter()
        .map(|(name, label, key)| {
            let current = *key == sort;
            let order = if current && !descending { "desc" } else { "asc" };
            Header {
                label,
                key: name,
                href: params.link(filter, name, order, None),
                sorted: match (current, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
            }
        })
        .collect();
    let sort_name = COLUMNS.iter().find(|(_, _, key)| *key == sort).map_or("name", |(name, _, _)| name);
    let order = if descending { "desc" } else { "asc" };
    let export_href = {
        let mut url = format!(
            "/api/dashboard/v1/clients/export.csv?filter={}&sort={sort_name}&order={order}",
            if filter == "active" { "active_app_users" } else { "all" }
        );
        if !params.search.is_empty() {
            url.push_str(&format!("&search={}", url_encode(&params.search)));
        }
        url
    };
    render(&ClientsTemplate {
        chrome: Chrome::new(&platform, &principal, "clients").await?,
        active_only: filter == "active",
        all_href: params.link("all", sort_name, order, None),
        active_href: params.link("active", sort_name, order, None),
        export_href,
        headers,
        next_href: page.next.as_deref().map(|next| params.link(filter, sort_name, order, Some(next))),
        first_href: params.after.is_some().then(|| params.link(filter, sort_name, order, None)),
        rows: page.rows.into_iter().map(|row| Row { row }).collect(),
        can_invite: principal.level.grants(Permission::ClientsInvite),
        can_reinvite: principal.level.grants(Permission::CampaignsSend),
        params,
    })
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientTemplate {
    chrome: Chrome,
    detail: ClientDetail,
    can_edit: bool,
    can_notify: bool,
    can_chat: bool,
    notice: Option<String>,
    /// The last notifications sent, newest first.
    notifications: Vec<notification::Model>,
    /// The last chat messages, oldest first, with their authors' names.
    messages: Vec<(message::Model, String)>,
    /// The notification form's text: the past-due reminder when there is one.
    notification_body: String,
    /// The loyalty panel.
    paws: PawCard,
    /// The rewards staff may give with Manually Reward.
    rewards: Vec<reward::Model>,
    can_reward: bool,
    /// Orders and appointment requests, newest first, of `pet_filter` when set.
    requests: Vec<owner_request::Model>,
    pet_filter: Option<Uuid>,
    can_move_requests: bool,
    selfies: Vec<selfie::Model>,
    can_curate: bool,
    preferences: Preferences,
    /// The household's wellness plans, newest first, when the level may see them.
    plans: Vec<PlanRecord>,
    /// The templates sold now, for the enrol form.
    sold: Vec<SoldTemplate>,
    can_view_plans: bool,
    /// Whether the signed-in level may choose the gated enrolment options alone.
    can_choose_gated: bool,
    /// Whether it may hold, change and cancel plans alone.
    can_manage_plans: bool,
    /// Whether it may edit and delete notes.
    can_edit_notes: bool,
    /// The staff member may print healthcare agreements.
    can_print_agreements: bool,
    /// What cancelling each open plan would do, by plan.
    previews: Vec<(Uuid, CancelPreview)>,
    /// The client's saved cards, newest first.
    cards: Vec<payment_profile::Model>,
    /// Whether this server saves cards (a payment gateway is set up).
    takes_cards: bool,
}

impl ClientTemplate {
    /// Cents as dollars: `4299` → `$42.99`.
    fn money(&self, cents: &i64) -> String {
        petbridge_domain::kernel::text::dollars(*cents)
    }

    /// Whether a plan can still be held, changed or cancelled.
    fn plan_open(&self, record: &PlanRecord) -> bool {
        !matches!(record.plan.status, Status::Cancelled | Status::Completed)
    }

    fn is_pending(&self, record: &PlanRecord) -> bool {
        record.plan.status == Status::Pending
    }

    /// Whether another plan of the household renews this one.
    fn renewed(&self, record: &PlanRecord) -> bool {
        self.plans.iter().any(|p| p.plan.renews_plan_id == Some(record.plan.id))
    }

    fn preview(&self, plan_id: &Uuid) -> Option<&CancelPreview> {
        self.previews.iter().find(|(id, _)| id == plan_id).map(|(_, preview)| preview)
    }

    /// The templates a plan may change to: sold now, of its term, not its own version.
    fn changes_for(&self, record: &PlanRecord) -> Vec<&SoldTemplate> {
        self.sold
            .iter()
            .filter(|t| t.version.term_months == record.version.term_months && t.version.id != record.version.id)
            .collect()
    }

    /// One step of a plan's history in words.
    fn event(&self, entry: &activity::Model) -> String {
        let facts = entry.detail.clone().unwrap_or_default();
        let text = |key: &str| facts.get(key).and_then(|v| v.as_str()).unwrap_or_default().replace('_', " ");
        let cents = |key: &str| self.money(&facts.get(key).and_then(serde_json::Value::as_i64).unwrap_or(0));
        match entry.action.as_str() {
            "plan.enrol" => format!("Enrolled, initial charge {}", cents("initial_charge_cents")),
            "plan.hold" => format!("Put on hold ({})", text("reason")),
            "plan.release" => format!("Released; missed payments: {}", text("missed")),
            "plan.change" => {
                let name = |side: &str| facts[side]["name"].as_str().unwrap_or_default().to_owned();
                format!(
                    "Changed from {} to {}, a difference of {}",
                    name("from"),
                    name("to"),
                    cents("difference_cents")
                )
            }
            "plan.cancel" => format!("Cancelled ({}), {} owed", text("reason"), cents("owed_cents")),
            "plan.renewal_prepared" => format!("Renewal prepared: {} from {}", text("name"), text("starts_on")),
            "plan.renew" => format!("Sold as the renewal of the last plan, {}", cents("total_cents")),
            "plan.renewal_blocked" => format!("Automatic renewal blocked: {}", text("why")),
            "plan.renewal_notice" => format!("Owner told of the renewal by {}", text("channel")),
            "plan.renewal_configure" => format!("Renewal set to {}", text("renewal")),
            "plan.activate" => "Started".to_owned(),
            "plan.complete" => "Term completed".to_owned(),
            "plan.note_add" => "Note added".to_owned(),
            "plan.note_edit" => "Note edited".to_owned(),
            "plan.note_delete" => format!("Note deleted: “{}”", text("said")),
            "plan.agreement_signed" => format!("Agreement {} signed in the app", text("reference")),
            other => other.to_owned(),
        }
    }

    fn request_pet(&self, request: &owner_request::Model) -> String {
        let pet = request.pet_id.and_then(|id| self.detail.pets.iter().find(|p| p.pet.id == id));
        pet.map(|p| p.pet.name.clone()).unwrap_or_default()
    }

    fn filtered(&self, pet: &clients::PetDetail) -> bool {
        self.pet_filter == Some(pet.pet.id)
    }

    fn taken_back(&self, entry: &petbridge_domain::db::entities::paw_entry::Model) -> bool {
        self.paws.reversed(entry.id)
    }

    fn pending_requests(&self) -> Vec<&petbridge_domain::db::entities::reward_request::Model> {
        self.paws.requests.iter().filter(|r| r.status == reward_request::Status::Pending).collect()
    }

    /// The steps staff may take next, with their button labels.
    fn next_steps(&self, request: &owner_request::Model) -> Vec<(String, &'static str)> {
        requests::next_steps(request.kind, request.status).iter().map(|s| (s.to_string(), s.label())).collect()
    }

    fn status_label(&self, request: &owner_request::Model) -> &'static str {
        request.status.label()
    }

    fn preferred_times(&self, request: &owner_request::Model) -> String {
        let times: Vec<String> =
            request.preferred_times.clone().and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default();
        times.join("; ")
    }

    /// The preference switches: field name, label, and whether it is on.
    fn switches(&self) -> [(&'static str, &'static str, bool); 5] {
        let p = &self.preferences;
        [
            ("post_visit_surveys", "Post-visit surveys", p.post_visit_surveys),
            ("postcard_reminders", "Postcard reminders", p.postcard_reminders),
            ("email", "Email", p.email),
            ("two_way_texts", "Two-way texts", p.two_way_texts),
            ("push", "Push notifications", p.push),
        ]
    }

    fn favourites(&self) -> Vec<&selfie::Model> {
        self.selfies.iter().filter(|s| s.hearted_at.is_some()).collect()
    }

    fn inactivated(&self) -> Vec<&clients::PetDetail> {
        self.detail.pets.iter().filter(|p| p.pet.owner_inactive_at.is_some()).collect()
    }

    fn name(&self) -> String {
        format!("{} {}", self.detail.client.first_name, self.detail.client.last_name).trim().to_owned()
    }

    fn status(&self) -> &'static str {
        self.detail.status.map_or("—", AccountStatus::label)
    }
}

#[derive(Deserialize)]
pub(crate) struct DetailQuery {
    done: Option<String>,
    /// Orders and appointments of one pet only.
    pet: Option<String>,
}

/// View Details.
#[handler]
pub(crate) async fn detail(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Path(id): Path<Uuid>,
    Query(query): Query<DetailQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::ClientsView).await? {
        return Ok(refused);
    }
    let detail = match clients::detail(&platform, principal.scope(), id).await {
        Ok(detail) => detail,
        Err(DomainError::NotFound) => return Err(poem::Error::from_status(poem::http::StatusCode::NOT_FOUND)),
        Err(err) => return Err(server_error(err)),
    };
    let scope = principal.scope();
    let notifications = notifications::inbox(&platform, scope, id, None, 10).await.map_err(server_error)?.items;
    let can_chat = principal.level.grants(Permission::ChatView);
    let mut messages = Vec::new();
    if let (true, Some(conversation)) =
        (can_chat, conversations::existing(&platform, scope, id).await.map_err(server_error)?)
    {
        let mut page = conversations::history(&platform, conversation.id, None, None, 5).await.map_err(server_error)?;
        page.items.reverse();
        messages = page
            .items
            .into_iter()
            .map(|m| {
                let name = page.names.get(&m.id).cloned().unwrap_or_default();
                (m, name)
            })
            .collect();
    }
    let can_view_plans = principal.level.grants(Permission::PlansView);
    let plans =
        if can_view_plans { records::of_client(&platform, scope, id).await.map_err(server_error)? } else { Vec::new() };
    let cards =
        if can_view_plans { profiles::list(&platform, scope, id).await.map_err(server_error)? } else { Vec::new() };
    let pet_filter = query.pet.as_deref().and_then(|p| Uuid::parse_str(p).ok());
    let filter = Filter { kind: None, pet_id: pet_filter };
    render(&ClientTemplate {
        cards,
        takes_cards: platform.payments.card_fields().is_some(),
        chrome: Chrome::new(&platform, &principal, "clients").await?,
        paws: loyalty::card(&platform, scope, id).await.map_err(server_error)?,
        rewards: loyalty::catalogue(&platform, scope, false).await.map_err(server_error)?,
        can_reward: principal.level.grants(Permission::LoyaltyManage),
        requests: requests::of_household(&platform, scope, id, filter).await.map_err(server_error)?,
        pet_filter,
        can_move_requests: principal.level.grants(Permission::RequestsManage),
        selfies: selfies::of_household(&platform, scope, id).await.map_err(server_error)?,
        can_curate: principal.level.grants(Permission::SelfiesCurate),
        preferences: preferences::get(&platform, scope, id).await.map_err(server_error)?,
        sold: if can_view_plans {
            plan_templates::list(&platform, scope, false).await.map_err(server_error)?
        } else {
            Vec::new()
        },
        previews: if can_view_plans {
            let policy = practices::get(&platform, scope).await.map_err(server_error)?.settings.plan_cancellation;
            plans
                .iter()
                .filter_map(|r| {
                    let preview = lifecycle::cancellation(policy, &r.plan, &r.payments, 0, None).ok()?;
                    Some((r.plan.id, preview))
                })
                .collect()
        } else {
            Vec::new()
        },
        plans,
        can_view_plans,
        can_manage_plans: principal.level.grants(Permission::PlansHold),
        can_edit_notes: principal.level.grants(Permission::NotesEdit),
        can_print_agreements: principal.level.grants(Permission::AgreementsPrint),
        can_choose_gated: principal.level.grants(Permission::PlansWaiveInitialFee),
        can_edit: principal.level.grants(Permission::ClientsEdit),
        can_notify: principal.level.grants(Permission::NotificationsSend),
        can_chat,
        notice: query.done,
        notifications,
        messages,
        notification_body: detail.past_due_message.clone().unwrap_or_default(),
        detail,
    })
}
