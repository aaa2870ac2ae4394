//! Clients as the practice sees them: the Users list (statuses, past due,
//! search, sorting, paging, export), invitations, a client's
//! details, and pets leaving and returning to the app.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, Order,
    QueryFilter, QueryOrder, QuerySelect, Set, Value,
    sea_query::{Expr, NullOrdering},
};
use uuid::Uuid;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::{self, Entry},
    db::entities::{
        appointment, client, invoice, owner_account,
        pet::{self, PmsStatus},
        reminder,
    },
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{caller::Authorized, exports::SpreadsheetCsv, paging::page_limit, practice::Practice, text::Email},
    practices,
};

/// Rows read per statement.
pub(crate) const CHUNK: usize = 400;
/// Only clients with a transaction this recent enter the Users list.
const LISTED_MONTHS: u32 = 24;
/// How long a pet stays in the app after the PMS marks it deceased or inactive.
pub const PET_REMOVAL_DELAY_HOURS: i64 = 24;

pub use crate::db::entities::client::{AccountStatus, PetSyncStatus};

impl AccountStatus {
    /// As the dashboard shows it.
    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::NoAccount => "—",
            AccountStatus::Verified => "Verified",
            AccountStatus::Disabled => "Disabled",
            AccountStatus::Invited => "Invited",
            AccountStatus::EmailNotVerified => "Email Not Verified",
        }
    }

    /// The status a list shows: nothing for a household with no account
    /// and no invitation.
    pub fn shown(self) -> Option<Self> {
        (self != AccountStatus::NoAccount).then_some(self)
    }
}

impl PetSyncStatus {
    /// As the dashboard shows it.
    pub fn label(self) -> &'static str {
        match self {
            PetSyncStatus::Connected => "Connected",
            PetSyncStatus::NoEmailMatch => "No email match found",
            PetSyncStatus::NotAvailable => "Not available",
        }
    }
}

/// A fresh client row with empty listing columns.
pub(crate) fn new_row(scope: Scope, now: DateTime<Utc>) -> client::ActiveModel {
    client::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        pms_id: Set(None),
        pms_updated_at: Set(None),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        email: Set(None),
        phone: Set(None),
        pms_active: Set(true),
        last_transaction_on: Set(None),
        invited_at: Set(None),
        personal_note: Set(None),
        sort_name: Set(String::new()),
        account_status: Set(AccountStatus::NoAccount),
        account_created_at: Set(None),
        pet_sync_status: Set(PetSyncStatus::NotAvailable),
        earliest_due_on: Set(None),
        last_activity_on: Set(None),
        search_text: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// A client known so far only as the owner of a synced pet.
pub(crate) async fn stub(
    conn: &impl ConnectionTrait,
    scope: Scope,
    pms_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<Uuid> {
    let mut row = new_row(scope, now);
    row.pms_id = Set(Some(pms_id.to_owned()));
    Ok(row.insert(conn).await?.id)
}

/// Moves an app-only household (invitation or sign-up) into the PMS client
/// with the same email: its account, its pets, its invitation.
pub(crate) async fn merge_into(
    conn: &impl ConnectionTrait,
    twin: &client::Model,
    target: &client::Model,
) -> DomainResult<()> {
    let target_has_account =
        owner_account::Entity::find().filter(owner_account::Column::ClientId.eq(target.id)).one(conn).await?.is_some();
    if !target_has_account {
        owner_account::Entity::update_many()
            .col_expr(owner_account::Column::ClientId, Expr::value(target.id))
            .filter(owner_account::Column::ClientId.eq(twin.id))
            .exec(conn)
            .await?;
    } else if owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(twin.id))
        .one(conn)
        .await?
        .is_some()
    {
        // Two accounts for one household: leave both for staff to sort out.
        return Ok(());
    }
    pet::Entity::update_many()
        .col_expr(pet::Column::ClientId, Expr::value(target.id))
        .filter(pet::Column::ClientId.eq(twin.id))
        .exec(conn)
        .await?;
    if twin.invited_at.is_some() && target.invited_at.is_none() {
        client::Entity::update_many()
            .col_expr(client::Column::InvitedAt, Expr::value(twin.invited_at))
            .filter(client::Column::Id.eq(target.id))
            .exec(conn)
            .await?;
    }
    if target.personal_note.is_none() && twin.personal_note.is_some() {
        client::Entity::update_many()
            .col_expr(client::Column::PersonalNote, Expr::value(twin.personal_note.clone()))
            .filter(client::Column::Id.eq(target.id))
            .exec(conn)
            .await?;
    }
    client::Entity::delete_by_id(twin.id).exec(conn).await?;
    Ok(())
}

/// Whether the app shows a pet at `now`: not removed by staff, and active in
/// the PMS, reinstated since its status changed, or changed less than
/// [`PET_REMOVAL_DELAY_HOURS`] ago.
pub fn pet_in_app(pet: &pet::Model, now: DateTime<Utc>) -> bool {
    if pet.removed_at.is_some() {
        return false;
    }
    match pet.status_changed_at {
        None => true,
        Some(changed) => {
            pet.pms_status == PmsStatus::Active
                || pet.reinstated_at.is_some_and(|at| at >= changed)
                || now < changed + Duration::hours(PET_REMOVAL_DELAY_HOURS)
        }
    }
}

/// What a search looks in: names, emails, phone digits and pet names, lower case.
pub(crate) fn search_text(row: &client::Model, account_email: Option<&str>, pet_names: &[&str]) -> String {
    let mut search = vec![row.first_name.to_lowercase(), row.last_name.to_lowercase()];
    search.extend(row.email.clone());
    search.extend(account_email.map(str::to_owned));
    search.extend(row.phone.as_ref().map(|p| p.trim_start_matches('+').to_owned()));
    search.extend(pet_names.iter().map(|name| name.to_lowercase()));
    format!("|{}|", search.join("|"))
}

pub(crate) fn sort_name(first: &str, last: &str) -> String {
    format!("{}, {}", last.trim(), first.trim()).trim_matches([',', ' ']).to_lowercase()
}

/// Recomputes the Users-list columns of these clients from their account,
/// pets, reminders and invoices. Call it in the transaction that changed them.
pub(crate) async fn refresh_listings(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    ids: &[Uuid],
) -> DomainResult<()> {
    let now = platform.clock.now();
    for chunk in ids.chunks(CHUNK) {
        let clients = client::Entity::find()
            .filter(client::Column::PracticeId.eq(scope.practice_id))
            .filter(client::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?;
        let accounts: HashMap<Uuid, owner_account::Model> = owner_account::Entity::find()
            .filter(owner_account::Column::ClientId.is_in(chunk.to_vec()))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.client_id, a))
            .collect();
        let mut pets: HashMap<Uuid, Vec<pet::Model>> = HashMap::new();
        for row in pet::Entity::find().filter(pet::Column::ClientId.is_in(chunk.to_vec())).all(conn).await? {
            pets.entry(row.client_id).or_default().push(row);
        }
        let pms_ids: Vec<String> = clients.iter().filter_map(|c| c.pms_id.clone()).collect();
        let mut reminders: HashMap<String, Vec<reminder::Model>> = HashMap::new();
        let mut last_invoice: HashMap<String, NaiveDate> = HashMap::new();
        if !pms_ids.is_empty() {
            for row in reminder::Entity::find()
                .filter(reminder::Column::PracticeId.eq(scope.practice_id))
                .filter(reminder::Column::ClientPmsId.is_in(pms_ids.clone()))
                .filter(reminder::Column::Status.eq(reminder::Status::Pending))
                .all(conn)
                .await?
            {
                reminders.entry(row.client_pms_id.clone()).or_default().push(row);
            }
            last_invoice = invoice::Entity::find()
                .select_only()
                .column(invoice::Column::ClientPmsId)
                .column_as(invoice::Column::InvoicedOn.max(), "last")
                .filter(invoice::Column::PracticeId.eq(scope.practice_id))
                .filter(invoice::Column::ClientPmsId.is_in(pms_ids))
                .filter(invoice::Column::Voided.eq(false))
                .group_by(invoice::Column::ClientPmsId)
                .into_tuple::<(String, Option<NaiveDate>)>()
                .all(conn)
                .await?
                .into_iter()
                .filter_map(|(id, last)| last.map(|last| (id, last)))
                .collect();
        }
        for row in clients {
            let account = accounts.get(&row.id);
            let household = pets.get(&row.id).map(Vec::as_slice).unwrap_or_default();
            let in_app: Vec<&pet::Model> = household.iter().filter(|p| pet_in_app(p, now)).collect();
            let open = row.pms_id.as_ref().and_then(|id| reminders.get(id)).map(Vec::as_slice).unwrap_or_default();
            let earliest_due_on = open
                .iter()
                .filter(|r| in_app.iter().any(|p| p.pms_id.as_deref() == Some(r.pet_pms_id.as_str())))
                .map(|r| r.due_on)
                .min();
            let invoiced = row.pms_id.as_ref().and_then(|id| last_invoice.get(id)).copied();
            let last_activity_on = row.last_transaction_on.max(invoiced);
            let status = account_status(&row, account);
            let account_created_at = account.map(|a| a.created_at).or(row.invited_at);
            let pet_sync = pet_sync_status(&row, account);
            let pet_names: Vec<&str> = household.iter().map(|p| p.name.as_str()).collect();
            let search_text = search_text(&row, account.map(|a| a.email.as_str()), &pet_names);
            let sort = sort_name(&row.first_name, &row.last_name);
            let unchanged = row.sort_name == sort
                && row.account_status == status
                && row.account_created_at == account_created_at
                && row.pet_sync_status == pet_sync
                && row.earliest_due_on == earliest_due_on
                && row.last_activity_on == last_activity_on
                && row.search_text == search_text;
            if unchanged {
                continue;
            }
            let mut active = row.into_active_model();
            active.sort_name = Set(sort);
            active.account_status = Set(status);
            active.account_created_at = Set(account_created_at);
            active.pet_sync_status = Set(pet_sync);
            active.earliest_due_on = Set(earliest_due_on);
            active.last_activity_on = Set(last_activity_on);
            active.search_text = Set(search_text);
            active.update(conn).await?;
        }
    }
    Ok(())
}

fn account_status(row: &client::Model, account: Option<&owner_account::Model>) -> AccountStatus {
    let inactive_in_pms = row.pms_updated_at.is_some() && !row.pms_active;
    match account {
        Some(a) if a.disabled_at.is_some() || inactive_in_pms => AccountStatus::Disabled,
        Some(a) if a.email_verified_at.is_some() => AccountStatus::Verified,
        Some(_) => AccountStatus::EmailNotVerified,
        None if inactive_in_pms && row.invited_at.is_some() => AccountStatus::Disabled,
        None if row.invited_at.is_some() => AccountStatus::Invited,
        None => AccountStatus::NoAccount,
    }
}

fn pet_sync_status(row: &client::Model, account: Option<&owner_account::Model>) -> PetSyncStatus {
    match account {
        Some(a) if a.email_verified_at.is_some() => {
            if row.pms_updated_at.is_some() && row.email.as_deref() == Some(a.email.as_str()) {
                PetSyncStatus::Connected
            } else {
                PetSyncStatus::NoEmailMatch
            }
        }
        _ => PetSyncStatus::NotAvailable,
    }
}

/// Which clients the Users list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    /// Everyone: PMS clients with a transaction in the last 24 months, and
    /// everyone invited or with an account.
    #[default]
    All,
    /// Owners who downloaded the app and verified their identity.
    ActiveAppUsers,
}

/// The Users list's sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Last name, first name.
    #[default]
    Name,
    /// Email.
    Email,
    /// Account status.
    AccountStatus,
    /// Account created.
    AccountCreated,
    /// Pet Sync Status.
    PetSyncStatus,
    /// Past due (earliest open due date first).
    PastDue,
}

impl SortKey {
    fn column(self) -> client::Column {
        match self {
            SortKey::Name => client::Column::SortName,
            SortKey::Email => client::Column::Email,
            SortKey::AccountStatus => client::Column::AccountStatus,
            SortKey::AccountCreated => client::Column::AccountCreatedAt,
            SortKey::PetSyncStatus => client::Column::PetSyncStatus,
            SortKey::PastDue => client::Column::EarliestDueOn,
        }
    }

    fn value(self, row: &client::Model) -> Option<String> {
        match self {
            SortKey::Name => Some(row.sort_name.clone()),
            SortKey::Email => row.email.clone(),
            SortKey::AccountStatus => Some(row.account_status.to_value()),
            SortKey::AccountCreated => row.account_created_at.map(|at| at.to_rfc3339()),
            SortKey::PetSyncStatus => Some(row.pet_sync_status.to_value()),
            SortKey::PastDue => row.earliest_due_on.map(|d| d.to_string()),
        }
    }

    fn parse_value(self, text: &str) -> DomainResult<Value> {
        let invalid = || DomainError::with(Code::InvalidCursor, "the paging cursor is not one this server made");
        Ok(match self {
            SortKey::AccountCreated => Value::from(DateTime::parse_from_rfc3339(text).map_err(|_| invalid())?.to_utc()),
            SortKey::PastDue => Value::from(text.parse::<NaiveDate>().map_err(|_| invalid())?),
            _ => Value::from(text.to_owned()),
        })
    }
}

/// What the Users list is asked for.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Everyone or app users.
    pub audience: Audience,
    /// The column to sort by…
    pub sort: SortKey,
    /// …and whether from the largest.
    pub descending: bool,
    /// Part of a client's name, email, phone or pet name.
    pub search: Option<String>,
    /// The cursor of the previous page.
    pub after: Option<String>,
    /// Rows per page (1–200, default 50).
    pub limit: Option<u32>,
}

/// A pet as the Users list shows it.
#[derive(Debug, Clone)]
pub struct PetSummary {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Whether a health service is past due.
    pub past_due: bool,
}

/// One row of the Users list.
#[derive(Debug, Clone)]
pub struct ListRow {
    /// The client.
    pub client: client::Model,
    /// Account status; `None` without account or invitation.
    pub status: Option<AccountStatus>,
    /// Pet Sync Status.
    pub pet_sync: PetSyncStatus,
    /// The household's pets in the app.
    pub pets: Vec<PetSummary>,
}

impl ListRow {
    /// Whether any pet is past due.
    pub fn past_due(&self) -> bool {
        self.pets.iter().any(|p| p.past_due)
    }
}

/// One page of the Users list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The rows.
    pub rows: Vec<ListRow>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

fn encode_cursor(value: Option<String>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([value, id]).to_string())
}

fn decode_cursor(sort: SortKey, text: &str) -> DomainResult<(Option<Value>, Uuid)> {
    let invalid = || DomainError::with(Code::InvalidCursor, "the paging cursor is not one this server made");
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let (value, id): (Option<String>, Uuid) = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    Ok((value.map(|v| sort.parse_value(&v)).transpose()?, id))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::from("%");
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What a search term is compared with: lower case, and digits only when it
/// looks like a phone number.
fn search_term(raw: &str) -> Option<String> {
    let term = raw.trim().to_lowercase();
    if term.is_empty() {
        return None;
    }
    let digits: String = term.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 3 && term.chars().all(|c| c.is_ascii_digit() || " -.()+".contains(c));
    Some(if phone_like { digits } else { term })
}

pub(crate) fn listed(practice: &Practice, now: DateTime<Utc>, audience: Audience) -> Condition {
    let scope = Condition::all().add(client::Column::PracticeId.eq(practice.id));
    match audience {
        Audience::ActiveAppUsers => scope.add(client::Column::AccountStatus.eq(AccountStatus::Verified)),
        Audience::All => {
            let today = practice.today(now);
            let cutoff = today.checked_sub_months(Months::new(LISTED_MONTHS)).unwrap_or(today);
            scope.add(
                Condition::any()
                    .add(client::Column::AccountStatus.ne(AccountStatus::NoAccount))
                    .add(client::Column::LastActivityOn.gte(cutoff)),
            )
        }
    }
}

/// A search that matches at most this many clients is answered from their
/// ids; a broader one walks the sort order, where matches come quickly.
const SEARCH_CANDIDATES: u64 = 1_000;

fn search_condition(term: &str) -> Expr {
    use sea_orm::sea_query::ExprTrait;
    Expr::col(client::Column::SearchText).like(sea_orm::sea_query::LikeExpr::new(like_pattern(term)).escape('\\'))
}

/// The listed clients matching the query's search, in its order.
async fn filtered(
    conn: &impl ConnectionTrait,
    practice: &Practice,
    now: DateTime<Utc>,
    query: &ListQuery,
) -> DomainResult<sea_orm::Select<client::Entity>> {
    let mut select = client::Entity::find().filter(listed(practice, now, query.audience));
    if let Some(term) = query.search.as_deref().and_then(search_term) {
        // A narrow scan of the (practice, search text, id) index finds the
        // matches without reading the rows.
        let candidates: Vec<Uuid> = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::PracticeId.eq(practice.id))
            .filter(search_condition(&term))
            .limit(SEARCH_CANDIDATES + 1)
            .into_tuple()
            .all(conn)
            .await?;
        select = if candidates.len() as u64 <= SEARCH_CANDIDATES {
            select.filter(client::Column::Id.is_in(candidates))
        } else {
            select.filter(search_condition(&term))
        };
    }
    let order = if query.descending { Order::Desc } else { Order::Asc };
    Ok(select
        .order_by_with_nulls(query.sort.column(), order.clone(), NullOrdering::Last)
        .order_by(client::Column::Id, order))
}

/// One page of the Users list.
pub async fn list(platform: &Platform, scope: Scope, query: &ListQuery) -> DomainResult<ListPage> {
    use sea_orm::sea_query::ExprTrait;
    let limit = page_limit(query.limit)?;
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let mut select = filtered(&platform.db, &practice, now, query).await?;
    if let Some(after) = &query.after {
        let (value, id) = decode_cursor(query.sort, after)?;
        let column = query.sort.column();
        let (beyond, id_beyond) = if query.descending {
            (Expr::col(column).lt(value.clone().unwrap_or(Value::Bool(None))), client::Column::Id.lt(id))
        } else {
            (Expr::col(column).gt(value.clone().unwrap_or(Value::Bool(None))), client::Column::Id.gt(id))
        };
        // Nulls sort last in both directions.
        select = select.filter(match value {
            Some(value) => Condition::any()
                .add(beyond)
                .add(Condition::all().add(Expr::col(column).eq(value)).add(id_beyond))
                .add(Expr::col(column).is_null()),
            None => Condition::all().add(Expr::col(column).is_null()).add(id_beyond),
        });
    }
    let mut rows = select.limit(limit + 1).all(&platform.db).await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        rows.last().map(|last| encode_cursor(query.sort.value(last), last.id))
    } else {
        None
    };
    Ok(ListPage { rows: with_pets(&platform.db, &practice, now, rows).await?, next })
}

async fn with_pets(
    conn: &impl ConnectionTrait,
    practice: &Practice,
    now: DateTime<Utc>,
    clients: Vec<client::Model>,
) -> DomainResult<Vec<ListRow>> {
    let today = practice.today(now);
    let mut rows = Vec::with_capacity(clients.len());
    for chunk in clients.chunks(CHUNK) {
        let ids: Vec<Uuid> = chunk.iter().map(|c| c.id).collect();
        let mut pets: HashMap<Uuid, Vec<pet::Model>> = HashMap::new();
        for row in pet::Entity::find()
            .filter(pet::Column::ClientId.is_in(ids))
            .order_by_asc(pet::Column::Name)
            .all(conn)
            .await?
        {
            pets.entry(row.client_id).or_default().push(row);
        }
        // Only households with something due before today have past-due pets.
        let due_ids: Vec<String> = chunk
            .iter()
            .filter(|c| c.earliest_due_on.is_some_and(|d| d < today))
            .filter_map(|c| c.pms_id.clone())
            .collect();
        let mut past_due_pets = std::collections::HashSet::new();
        if !due_ids.is_empty() {
            past_due_pets.extend(
                reminder::Entity::find()
                    .select_only()
                    .column(reminder::Column::PetPmsId)
                    .filter(reminder::Column::PracticeId.eq(practice.id))
                    .filter(reminder::Column::ClientPmsId.is_in(due_ids))
                    .filter(reminder::Column::Status.eq(reminder::Status::Pending))
                    .filter(reminder::Column::DueOn.lt(today))
                    .into_tuple::<String>()
                    .all(conn)
                    .await?,
            );
        }
        for client in chunk {
            let household = pets.remove(&client.id).unwrap_or_default();
            rows.push(ListRow {
                status: client.account_status.shown(),
                pet_sync: client.pet_sync_status,
                pets: household
                    .into_iter()
                    .filter(|p| pet_in_app(p, now))
                    .map(|p| PetSummary {
                        past_due: p.pms_id.as_ref().is_some_and(|id| past_due_pets.contains(id)),
                        id: p.id,
                        name: p.name,
                        species: p.species,
                    })
                    .collect(),
                client: client.clone(),
            });
        }
    }
    Ok(rows)
}

/// The whole Users list (filter, search and sort as given) as CSV.
pub async fn export_csv(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    query: &ListQuery,
) -> DomainResult<String> {
    activity::record_export(platform, scope, who, origin, "export.users").await?;
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let clients = filtered(&platform.db, &practice, now, query).await?.all(&platform.db).await?;
    let rows = with_pets(&platform.db, &practice, now, clients).await?;
    let mut csv = SpreadsheetCsv::new([
        "Last name",
        "First name",
        "Email",
        "Phone",
        "Account status",
        "Account created",
        "Pet sync status",
        "Pets",
        "Past due",
    ])?;
    for row in rows {
        let past_due: Vec<&str> = row.pets.iter().filter(|p| p.past_due).map(|p| p.name.as_str()).collect();
        let pets: Vec<&str> = row.pets.iter().map(|p| p.name.as_str()).collect();
        csv.row([
            row.client.last_name.as_str(),
            row.client.first_name.as_str(),
            row.client.email.as_deref().unwrap_or(""),
            row.client.phone.as_deref().unwrap_or(""),
            row.status.map_or("", AccountStatus::label),
            &row.client
                .account_created_at
                .map(|at| at.with_timezone(&practice.time_zone).date_naive().to_string())
                .unwrap_or_default(),
            row.pet_sync.label(),
            &pets.join("; "),
            &past_due.join("; "),
        ])?;
    }
    csv.finish()
}

/// A client scoped to the practice, or not found.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<client::Model> {
    get_in(&platform.db, scope, id).await
}

/// [`get`] on `conn`: within a service's transaction.
pub(crate) async fn get_in(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<client::Model> {
    client::Entity::find_by_id(id)
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A pet with what the dashboard shows about it.
#[derive(Debug, Clone)]
pub struct PetDetail {
    /// The pet.
    pub pet: pet::Model,
    /// Whether the app shows it now.
    pub in_app: bool,
    /// Its open reminders, earliest first.
    pub reminders: Vec<reminder::Model>,
}

impl PetDetail {
    /// Whether something is due before `today`.
    pub fn past_due(&self, today: NaiveDate) -> bool {
        self.reminders.iter().any(|r| r.due_on < today)
    }
}

/// Everything View Details shows.
#[derive(Debug, Clone)]
pub struct ClientDetail {
    /// The client.
    pub client: client::Model,
    /// The app account, if any.
    pub account: Option<owner_account::Model>,
    /// Account status.
    pub status: Option<AccountStatus>,
    /// Pet Sync Status.
    pub pet_sync: PetSyncStatus,
    /// Pets (in the app or not).
    pub pets: Vec<PetDetail>,
    /// Upcoming appointments.
    pub appointments: Vec<appointment::Model>,
    /// The practice's day today.
    pub today: NaiveDate,
    /// A notification about past-due pets, ready to send; `None` when nothing is past due.
    pub past_due_message: Option<String>,
}

/// The pets of a household with their open reminders.
pub async fn household_pets(
    conn: &impl ConnectionTrait,
    scope: Scope,
    client: &client::Model,
    now: DateTime<Utc>,
) -> DomainResult<Vec<PetDetail>> {
    let pets = pet::Entity::find()
        .filter(pet::Column::ClientId.eq(client.id))
        .order_by_asc(pet::Column::Name)
        .all(conn)
        .await?;
    let reminders = match &client.pms_id {
        Some(id) => {
            reminder::Entity::find()
                .filter(reminder::Column::PracticeId.eq(scope.practice_id))
                .filter(reminder::Column::ClientPmsId.eq(id.as_str()))
                .filter(reminder::Column::Status.eq(reminder::Status::Pending))
                .order_by_asc(reminder::Column::DueOn)
                .all(conn)
                .await?
        }
        None => Vec::new(),
    };
    Ok(pets
        .into_iter()
        .map(|pet| PetDetail {
            in_app: pet_in_app(&pet, now),
            reminders: reminders
                .iter()
                .filter(|r| pet.pms_id.as_deref() == Some(r.pet_pms_id.as_str()))
                .cloned()
                .collect(),
            pet,
        })
        .collect())
}

/// Upcoming scheduled appointments of a household.
pub async fn upcoming_appointments(
    platform: &Platform,
    scope: Scope,
    client: &client::Model,
    now: DateTime<Utc>,
) -> DomainResult<Vec<appointment::Model>> {
    let Some(id) = &client.pms_id else { return Ok(Vec::new()) };
    Ok(appointment::Entity::find()
        .filter(appointment::Column::PracticeId.eq(scope.practice_id))
        .filter(appointment::Column::ClientPmsId.eq(id.as_str()))
        .filter(appointment::Column::Status.eq("scheduled"))
        .filter(appointment::Column::StartsAt.gte(now))
        .order_by_asc(appointment::Column::StartsAt)
        .all(&platform.db)
        .await?)
}

/// View Details: the client, pets, reminders, appointments and a pre-loaded
/// past-due reminder notification.
pub async fn detail(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<ClientDetail> {
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let client = get(platform, scope, id).await?;
    let account =
        owner_account::Entity::find().filter(owner_account::Column::ClientId.eq(client.id)).one(&platform.db).await?;
    let pets = household_pets(&platform.db, scope, &client, now).await?;
    let today = practice.today(now);
    let due: Vec<String> = pets
        .iter()
        .filter(|p| p.in_app)
        .flat_map(|p| {
            p.reminders.iter().filter(|r| r.due_on < today).map(move |r| format!("{}'s {}", p.pet.name, r.service))
        })
        .collect();
    let past_due_message = (!due.is_empty()).then(|| {
        format!(
            "Hi {}, {} {} past due. Tap to request an appointment with {}.",
            if client.first_name.is_empty() { "there" } else { client.first_name.as_str() },
            join_words(&due),
            if due.len() == 1 { "is" } else { "are" },
            practice.name
        )
    });
    Ok(ClientDetail {
        status: client.account_status.shown(),
        pet_sync: client.pet_sync_status,
        appointments: upcoming_appointments(platform, scope, &client, now).await?,
        client,
        account,
        pets,
        today,
        past_due_message,
    })
}

fn join_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who to invite from the Users list.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Their email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

pub(crate) async fn queue_invitation(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    practice: &Practice,
    client: &client::Model,
    email: &str,
    reason: String,
) -> DomainResult<()> {
    outbox::enqueue(
        conn,
        platform,
        scope,
        NewDelivery {
            channel: Channel::Email,
            recipient: email.to_owned(),
            subject: Some(format!("Get the {} app", practice.name)),
            body: format!(
                "Hello {},\n\n{} invites you to its app: see your pets' reminders and appointments, chat with us, \
                 order refills and earn loyalty rewards. Download it, choose Sign up, and use this email address \
                 ({email}) with the practice code \"{}\".\n",
                if client.first_name.is_empty() { "there" } else { client.first_name.as_str() },
                practice.name,
                practice.slug
            ),
            data: serde_json::json!({ "template": "app_invitation" }),
            reason,
            purpose: Purpose::Invitation,
            client_id: Some(client.id),
            not_before: None,
            sealed: None,
        },
    )
    .await?;
    Ok(())
}

/// Invites someone by email: a listed client with that email, or a new
/// household added to the list.
pub async fn invite(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    invitation: Invitation,
) -> DomainResult<client::Model> {
    let email = Email::parse(&invitation.email)?.as_str().to_lowercase();
    let first_name = invitation.first_name.trim().chars().take(100).collect::<String>();
    let last_name = invitation.last_name.trim().chars().take(100).collect::<String>();
    let practice = practices::get(platform, scope).await?;
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    if owner_account::Entity::find()
        .filter(owner_account::Column::PracticeId.eq(scope.practice_id))
        .filter(owner_account::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(DomainError::from(Code::AlreadyAppUser));
    }
    let existing = client::Entity::find()
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .filter(client::Column::Email.eq(email.as_str()))
        .order_by_desc(client::Column::PmsUpdatedAt)
        .one(&txn)
        .await?;
    let client = match existing {
        Some(row) => {
            let mut active = row.into_active_model();
            active.invited_at = Set(Some(now));
            active.update(&txn).await?
        }
        None => {
            if first_name.is_empty() && last_name.is_empty() {
                return Err(DomainError::with(Code::MissingName, "give the client's first or last name"));
            }
            let mut row = new_row(scope, now);
            row.first_name = Set(first_name);
            row.last_name = Set(last_name);
            row.email = Set(Some(email.clone()));
            row.invited_at = Set(Some(now));
            row.insert(&txn).await?
        }
    };
    queue_invitation(&txn, platform, scope, &practice, &client, &email, format!("invited by {}", actor.name)).await?;
    Entry::new("client.invite", actor, origin).target("client", client.id).record(&txn, platform, scope).await?;
    refresh_listings(&txn, platform, scope, &[client.id]).await?;
    txn.commit().await?;
    get(platform, scope, client.id).await
}

/// Takes a pet out of the app at once (staff), or brings it back.
pub async fn set_pet_in_app(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    pet_id: Uuid,
    in_app: bool,
) -> DomainResult<PetDetail> {
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let row = pet::Entity::find_by_id(pet_id)
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let client_id = row.client_id;
    let mut active = row.into_active_model();
    if in_app {
        active.removed_at = Set(None);
        active.reinstated_at = Set(Some(now));
    } else {
        active.removed_at = Set(Some(now));
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    let action = if in_app { "pet.reinstate" } else { "pet.remove_from_app" };
    Entry::new(action, actor, origin).target("pet", pet_id).record(&txn, platform, scope).await?;
    refresh_listings(&txn, platform, scope, &[client_id]).await?;
    txn.commit().await?;
    let client = get(platform, scope, client_id).await?;
    household_pets(&platform.db, scope, &client, now)
        .await?
        .into_iter()
        .find(|p| p.pet.id == row.id)
        .ok_or(DomainError::NotFound)
}

/// The longest personal note.
pub const NOTE_MAX_CHARS: usize = 2_000;

/// Sets (or, with nothing, removes) the practice's personal note about a
/// client: internal, never shown to the owner, marked wherever they appear.
pub async fn set_personal_note(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    note: Option<&str>,
) -> DomainResult<()> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        return Err(DomainError::with(Code::NoteTooLong, format!("a note has at most {NOTE_MAX_CHARS} characters")));
    }
    let txn = platform.begin_write().await?;
    let client = get_in(&txn, scope, id).await?;
    let mut active = client.into_active_model();
    active.personal_note = Set(note.map(str::to_owned));
    active.updated_at = Set(platform.clock.now());
    active.update(&txn).await?;
    // The log says that the note changed, not what it says.
    let action = if note.is_some() { "client.note_set" } else { "client.note_removed" };
    Entry::new(action, actor, origin).target("client", id).record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(())
}
