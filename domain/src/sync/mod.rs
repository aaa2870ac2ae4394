//! The PMS sync: batches of clients, pets, appointments, reminders and
//! invoices, applied as upserts keyed by PMS ids.
//!
//! Rules: the same batch twice leaves the same state; a record older than the
//! stored one (by the PMS's `updated_at`) never overwrites it; an invalid
//! record is rejected with its reason while the rest applies. Records link
//! by PMS ids, so a pet may arrive before its owner (the owner is then known
//! by its id alone until its record comes) and batches may come in any order.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set, TryIntoModel,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::text::MAX_NAME_CHARS;
use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        appointment, client, invoice, invoice_line, owner_account,
        pet::{self, PmsStatus},
        reminder, sync_batch, sync_key,
    },
    households::clients,
    kernel::{
        text::{Email, Phone},
        tokens,
    },
    plans::lifecycle,
    practices,
};

/// Rows read or written per statement (well under SQLite's parameter limit).
const CHUNK: usize = 400;
/// The most records one batch may carry.
pub const MAX_BATCH_RECORDS: usize = 10_000;
/// New records in one batch that count as a bulk load (statistics are refreshed after it).
const BULK_LOAD: u32 = 1_000;
/// What every key starts with, so a leaked one is recognisable.
const KEY_PREFIX: &str = "pbsync_";

/// A client record from the PMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed it.
    pub updated_at: DateTime<Utc>,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Whether the PMS account is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// The day of the client's latest transaction.
    #[serde(default)]
    pub last_transaction_on: Option<NaiveDate>,
}

fn yes() -> bool {
    true
}

/// A pet record from the PMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PetRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed it.
    pub updated_at: DateTime<Utc>,
    /// The owner's PMS id.
    pub client_pms_id: String,
    /// Name.
    pub name: String,
    /// Species.
    #[serde(default)]
    pub species: Option<String>,
    /// Breed.
    #[serde(default)]
    pub breed: Option<String>,
    /// Sex.
    #[serde(default)]
    pub sex: Option<String>,
    /// Date of birth.
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    /// `active`, `inactive` or `deceased`.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".to_owned()
}

/// An appointment record from the PMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppointmentRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed it.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// The pet's PMS id.
    #[serde(default)]
    pub pet_pms_id: Option<String>,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// `scheduled`, `completed` or `cancelled`.
    #[serde(default = "scheduled")]
    pub status: String,
}

fn scheduled() -> String {
    "scheduled".to_owned()
}

/// A health-service reminder record from the PMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReminderRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed it.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// The pet's PMS id.
    pub pet_pms_id: String,
    /// The service, e.g. "Rabies vaccine".
    pub service: String,
    /// When it is due.
    pub due_on: NaiveDate,
    /// `pending`, `completed` or `cancelled`.
    #[serde(default = "pending")]
    pub status: String,
}

fn pending() -> String {
    "pending".to_owned()
}

/// An invoice line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceLineRecord {
    /// Item code.
    pub code: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Quantity (negative in corrections).
    pub quantity: f64,
    /// The pet's PMS id.
    #[serde(default)]
    pub pet_pms_id: Option<String>,
    /// Who provided it.
    #[serde(default)]
    pub provider: Option<String>,
    /// When; the invoice's date when absent.
    #[serde(default)]
    pub performed_on: Option<NaiveDate>,
    /// Voided.
    #[serde(default)]
    pub voided: bool,
}

/// An invoice record from the PMS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed it.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// Invoice date.
    pub invoiced_on: NaiveDate,
    /// Voided.
    #[serde(default)]
    pub voided: bool,
    /// The total in the practice's currency (e.g. 123.45); loyalty paws are earned from it.
    #[serde(default)]
    pub total: Option<f64>,
    /// Lines.
    #[serde(default)]
    pub lines: Vec<InvoiceLineRecord>,
}

/// One batch from the agent or an export file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Batch {
    /// Clients.
    #[serde(default)]
    pub clients: Vec<ClientRecord>,
    /// Pets.
    #[serde(default)]
    pub pets: Vec<PetRecord>,
    /// Appointments.
    #[serde(default)]
    pub appointments: Vec<AppointmentRecord>,
    /// Health-service reminders.
    #[serde(default)]
    pub reminders: Vec<ReminderRecord>,
    /// Invoices with their lines.
    #[serde(default)]
    pub invoices: Vec<InvoiceRecord>,
}

impl Batch {
    /// How many records it carries.
    pub fn len(&self) -> usize {
        self.clients.len() + self.pets.len() + self.appointments.len() + self.reminders.len() + self.invoices.len()
    }

    /// Whether it carries nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What happened to the records of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// Records received.
    pub received: u32,
    /// New records stored.
    pub created: u32,
    /// Stored records changed.
    pub updated: u32,
    /// Records equal to what was stored.
    pub unchanged: u32,
    /// Records older than what was stored (ignored).
    pub stale: u32,
    /// Invalid records (see the errors).
    pub rejected: u32,
}

/// Counts per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Clients.
    pub clients: KindCounts,
    /// Pets.
    pub pets: KindCounts,
    /// Appointments.
    pub appointments: KindCounts,
    /// Reminders.
    pub reminders: KindCounts,
    /// Invoices.
    pub invoices: KindCounts,
}

/// A rejected record and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// `clients`, `pets`, `appointments`, `reminders` or `invoices`.
    pub kind: String,
    /// Its position in that list of the batch.
    pub index: u32,
    /// Its PMS id as sent.
    pub pms_id: String,
    /// A stable code.
    pub code: String,
    /// For people.
    pub message: String,
}

/// The outcome of one batch, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReport {
    /// The record's id.
    pub id: Uuid,
    /// When it was applied.
    pub received_at: DateTime<Utc>,
    /// `api` or `import`.
    pub source: String,
    /// Counts per kind.
    pub counts: Counts,
    /// Rejected records.
    pub errors: Vec<RecordError>,
}

/// Who sent a batch.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// The agent, with this key.
    Api(Uuid),
    /// `petbridge sync import`.
    Import,
}

struct Rejection {
    code: Code,
    message: String,
}

fn reject(code: Code, message: impl Into<String>) -> Rejection {
    Rejection { code, message: message.into() }
}

impl From<DomainError> for Rejection {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Failed(code, detail) if code.kind() == crate::Kind::Unprocessable => {
                Rejection { code, message: detail.unwrap_or_else(|| code.message().to_owned()) }
            }
            other => Rejection { code: Code::InvalidRecord, message: other.to_string() },
        }
    }
}

/// Times as both databases store them (microseconds), so a replayed record
/// compares equal to the stored one.
fn stored_time(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}

fn pms_id(raw: &str) -> Result<String, Rejection> {
    let id = raw.trim();
    if id.is_empty() || id.chars().count() > 64 {
        return Err(reject(Code::InvalidPmsId, "a PMS id has 1 to 64 characters"));
    }
    Ok(id.to_owned())
}

fn text(raw: Option<&str>, max: usize, field: &str) -> Result<Option<String>, Rejection> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(reject(Code::FieldTooLong, format!("{field} has more than {max} characters")))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// A stored status from the PMS's word for it, in any case.
fn one_of<S: ActiveEnum<Value = String>>(value: &str, field: &str) -> Result<S, Rejection> {
    S::try_from_value(&value.trim().to_lowercase())
        .map_err(|_| reject(Code::InvalidStatus, format!("{field} must be one of {}", S::values().join(", "))))
}

/// Mutable state while one batch applies.
struct Apply<'a, C> {
    conn: &'a C,
    scope: Scope,
    now: DateTime<Utc>,
    counts: Counts,
    errors: Vec<RecordError>,
    /// Clients whose listing must be recomputed, by id…
    touched: HashSet<Uuid>,
    /// …and by PMS id (records that link by PMS id).
    touched_pms: HashSet<String>,
    /// Pets the PMS now records as deceased: their plans go on hold.
    died: Vec<Uuid>,
}

impl<C: ConnectionTrait> Apply<'_, C> {
    fn rejected(&mut self, kind: &str, index: usize, pms_id: &str, why: Rejection) {
        self.errors.push(RecordError {
            kind: kind.to_owned(),
            index: u32::try_from(index).unwrap_or(u32::MAX),
            pms_id: pms_id.chars().take(64).collect(),
            code: why.code.as_str().to_owned(),
            message: why.message,
        });
    }

    async fn clients(&mut self, records: &[ClientRecord]) -> DomainResult<()> {
        let mut counts = KindCounts { received: count(records.len()), ..KindCounts::default() };
        // App-only households (an invitation or a sign-up) that a PMS record
        // with the same email takes over; never one whose account has not
        // proved that email, which would hand it the PMS household.
        let unproved: HashSet<Uuid> = owner_account::Entity::find()
            .filter(owner_account::Column::PracticeId.eq(self.scope.practice_id))
            .filter(owner_account::Column::EmailVerifiedAt.is_null())
            .all(self.conn)
            .await?
            .into_iter()
            .map(|a| a.client_id)
            .collect();
        let mut app_only: HashMap<String, client::Model> = client::Entity::find()
            .filter(client::Column::PracticeId.eq(self.scope.practice_id))
            .filter(client::Column::PmsId.is_null())
            .filter(client::Column::Email.is_not_null())
            .all(self.conn)
            .await?
            .into_iter()
            .filter(|c| !unproved.contains(&c.id))
            .filter_map(|c| c.email.clone().map(|e| (e, c)))
            .collect();
        let mut pending = Pending::new();
        for (number, chunk) in records.chunks(CHUNK).enumerate() {
            let start = number * CHUNK;
            let ids: Vec<String> = chunk.iter().map(|r| r.pms_id.trim().to_owned()).collect();
            let mut stored: HashMap<String, client::Model> = client::Entity::find()
                .filter(client::Column::PracticeId.eq(self.scope.practice_id))
                .filter(client::Column::PmsId.is_in(ids))
                .all(self.conn)
                .await?
                .into_iter()
                .filter_map(|c| c.pms_id.clone().map(|id| (id, c)))
                .collect();
            for (offset, record) in chunk.iter().enumerate() {
                let parsed = match parse_client(record) {
                    Ok(parsed) => parsed,
                    Err(why) => {
                        counts.rejected += 1;
                        self.rejected("clients", start + offset, &record.pms_id, why);
                        continue;
                    }
                };
                let row = match stored.get(&parsed.pms_id) {
                    Some(row) if row.pms_updated_at.is_some_and(|at| at > parsed.updated_at) => {
                        counts.stale += 1;
                        continue;
                    }
                    Some(row) if parsed.same_as(row) => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(row) => {
                        counts.updated += 1;
                        pending.flush_if_waiting(self.conn, &parsed.pms_id).await?;
                        let mut active = row.clone().into_active_model();
                        parsed.write(&mut active, self.now);
                        active.update(self.conn).await?
                    }
                    None => {
                        counts.created += 1;
                        let mut active = clients::new_row(self.scope, self.now);
                        active.pms_id = Set(Some(parsed.pms_id.clone()));
                        parsed.write(&mut active, self.now);
                        // Listed as it will be, so the listing refresh finds nothing to change.
                        let mut row = active.clone().try_into_model()?;
                        row.sort_name = clients::sort_name(&row.first_name, &row.last_name);
                        row.search_text = clients::search_text(&row, None, &[]);
                        row.last_activity_on = row.last_transaction_on;
                        pending.add(&parsed.pms_id, row.clone().into_active_model());
                        row
                    }
                };
                if let Some(email) = &row.email
                    && let Some(twin) = app_only.remove(email)
                {
                    pending.flush(self.conn).await?;
                    clients::merge_into(self.conn, &twin, &row).await?;
                }
                self.touched.insert(row.id);
                stored.insert(parsed.pms_id, row);
            }
            pending.flush(self.conn).await?;
        }
        self.counts.clients = counts;
        Ok(())
    }

    async fn pets(&mut self, records: &[PetRecord]) -> DomainResult<()> {
        let mut counts = KindCounts { received: count(records.len()), ..KindCounts::default() };
        // Pets the owners added, waiting to merge with a PMS pet of the same
        // name and date of birth.
        let mut owner_added: HashMap<Uuid, Vec<pet::Model>> = HashMap::new();
        for row in pet::Entity::find()
            .filter(pet::Column::PracticeId.eq(self.scope.practice_id))
            .filter(pet::Column::PmsId.is_null())
            .filter(pet::Column::DateOfBirth.is_not_null())
            .all(self.conn)
            .await?
        {
            owner_added.entry(row.client_id).or_default().push(row);
        }
        let mut pending = Pending::new();
        for (number, chunk) in records.chunks(CHUNK).enumerate() {
            let start = number * CHUNK;
            let ids: Vec<String> = chunk.iter().map(|r| r.pms_id.trim().to_owned()).collect();
            let mut stored: HashMap<String, pet::Model> = pet::Entity::find()
                .filter(pet::Column::PracticeId.eq(self.scope.practice_id))
                .filter(pet::Column::PmsId.is_in(ids))
                .all(self.conn)
                .await?
                .into_iter()
                .filter_map(|p| p.pms_id.clone().map(|id| (id, p)))
                .collect();
            let owner_ids: Vec<String> = chunk.iter().map(|r| r.client_pms_id.trim().to_owned()).collect();
            let mut owners = self.owners(owner_ids).await?;
            for (offset, record) in chunk.iter().enumerate() {
                let parsed = match parse_pet(record) {
                    Ok(parsed) => parsed,
                    Err(why) => {
                        counts.rejected += 1;
                        self.rejected("pets", start + offset, &record.pms_id, why);
                        continue;
                    }
                };
                let owner = match owners.get(&parsed.client_pms_id) {
                    Some(id) => *id,
                    None => {
                        let stub = clients::stub(self.conn, self.scope, &parsed.client_pms_id, self.now).await?;
                        owners.insert(parsed.client_pms_id.clone(), stub);
                        stub
                    }
                };
                let twin = owner_added.get_mut(&owner).and_then(|pets| {
                    let at = pets.iter().position(|p| parsed.matches_owner_pet(p))?;
                    Some(pets.swap_remove(at))
                });
                let row = match (stored.get(&parsed.pms_id), twin) {
                    (Some(row), _) if row.pms_updated_at.is_some_and(|at| at > parsed.updated_at) => {
                        counts.stale += 1;
                        continue;
                    }
                    (Some(row), None) if row.client_id == owner && parsed.same_as(row) => {
                        counts.unchanged += 1;
                        continue;
                    }
                    (Some(row), twin) => {
                        counts.updated += 1;
                        pending.flush_if_waiting(self.conn, &parsed.pms_id).await?;
                        self.touched.insert(row.client_id);
                        let mut notes = row.owner_notes.clone();
                        if let Some(twin) = twin {
                            notes = notes.or(twin.owner_notes.clone());
                            pet::Entity::delete_by_id(twin.id).exec(self.conn).await?;
                        }
                        if parsed.status == PmsStatus::Deceased && row.pms_status != PmsStatus::Deceased {
                            self.died.push(row.id);
                        }
                        let mut active = row.clone().into_active_model();
                        active.owner_notes = Set(notes);
                        parsed.write(&mut active, owner, Some(row), self.now);
                        active.update(self.conn).await?
                    }
                    (None, Some(twin)) => {
                        // The owner's own profile becomes the PMS pet: same id, notes kept.
                        counts.created += 1;
                        let mut active = twin.clone().into_active_model();
                        active.added_by_owner = Set(false);
                        parsed.write(&mut active, owner, None, self.now);
                        active.update(self.conn).await?
                    }
                    (None, None) => {
                        counts.created += 1;
                        let mut active = pet::ActiveModel {
                            id: Set(Uuid::new_v4()),
                            practice_id: Set(self.scope.practice_id),
                            removed_at: Set(None),
                            reinstated_at: Set(None),
                            added_by_owner: Set(false),
                            owner_notes: Set(None),
                            owner_inactive_at: Set(None),
                            owner_inactive_reason: Set(None),
                            created_at: Set(self.now),
                            ..Default::default()
                        };
                        parsed.write(&mut active, owner, None, self.now);
                        let row = active.clone().try_into_model()?;
                        pending.add(&parsed.pms_id, active);
                        row
                    }
                };
                self.touched.insert(row.client_id);
                stored.insert(parsed.pms_id, row);
            }
            pending.flush(self.conn).await?;
        }
        self.counts.pets = counts;
        Ok(())
    }

    /// Client ids by PMS id.
    async fn owners(&self, pms_ids: Vec<String>) -> DomainResult<HashMap<String, Uuid>> {
        Ok(client::Entity::find()
            .select_only()
            .column(client::Column::PmsId)
            .column(client::Column::Id)
            .filter(client::Column::PracticeId.eq(self.scope.practice_id))
            .filter(client::Column::PmsId.is_in(pms_ids))
            .into_tuple::<(String, Uuid)>()
            .all(self.conn)
            .await?
            .into_iter()
            .collect())
    }

    /// Upserts records stored whole and linked by PMS ids only
    /// (appointments, reminders).
    async fn linked<R, M: LinkedRecord>(
        &mut self,
        kind: &'static str,
        records: &[R],
        pms_id_of: fn(&R) -> &str,
        parse: fn(Scope, &R) -> Result<M, Rejection>,
    ) -> DomainResult<KindCounts> {
        let mut counts = KindCounts { received: count(records.len()), ..KindCounts::default() };
        let mut pending: Pending<M::Active> = Pending::new();
        for (number, chunk) in records.chunks(CHUNK).enumerate() {
            let start = number * CHUNK;
            let ids: Vec<String> = chunk.iter().map(|r| pms_id_of(r).trim().to_owned()).collect();
            let mut stored: HashMap<String, M> = M::Entity::find()
                .filter(M::PRACTICE.eq(self.scope.practice_id))
                .filter(M::PMS_ID.is_in(ids))
                .all(self.conn)
                .await?
                .into_iter()
                .map(|row| (row.pms_id().to_owned(), row))
                .collect();
            for (offset, record) in chunk.iter().enumerate() {
                let parsed = match parse(self.scope, record) {
                    Ok(parsed) => parsed,
                    Err(why) => {
                        counts.rejected += 1;
                        self.rejected(kind, start + offset, pms_id_of(record), why);
                        continue;
                    }
                };
                let row = match stored.get(parsed.pms_id()) {
                    Some(row) if row.version() > parsed.version() => {
                        counts.stale += 1;
                        continue;
                    }
                    Some(row) if *row == parsed.clone().with_id(row.id()) => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(row) => {
                        counts.updated += 1;
                        pending.flush_if_waiting(self.conn, parsed.pms_id()).await?;
                        // A record may move to another client: both listings change.
                        self.touched_pms.insert(row.client_pms_id().to_owned());
                        parsed.with_id(row.id()).into_active_model().reset_all().update(self.conn).await?
                    }
                    None => {
                        counts.created += 1;
                        pending.add(parsed.pms_id(), parsed.clone().into_active_model());
                        parsed
                    }
                };
                self.touched_pms.insert(row.client_pms_id().to_owned());
                stored.insert(row.pms_id().to_owned(), row);
            }
            pending.flush(self.conn).await?;
        }
        Ok(counts)
    }

    async fn invoices(&mut self, records: &[InvoiceRecord]) -> DomainResult<()> {
        let mut counts = KindCounts { received: count(records.len()), ..KindCounts::default() };
        for (number, chunk) in records.chunks(CHUNK).enumerate() {
            let start = number * CHUNK;
            let ids: Vec<String> = chunk.iter().map(|r| r.pms_id.trim().to_owned()).collect();
            let mut stored: HashMap<String, invoice::Model> = invoice::Entity::find()
                .filter(invoice::Column::PracticeId.eq(self.scope.practice_id))
                .filter(invoice::Column::PmsId.is_in(ids))
                .all(self.conn)
                .await?
                .into_iter()
                .map(|i| (i.pms_id.clone(), i))
                .collect();
            for (offset, record) in chunk.iter().enumerate() {
                let (parsed, lines) = match parse_invoice(self.scope, record) {
                    Ok(parsed) => parsed,
                    Err(why) => {
                        counts.rejected += 1;
                        self.rejected("invoices", start + offset, &record.pms_id, why);
                        continue;
                    }
                };
                let row = match stored.get(&parsed.pms_id) {
                    Some(row) if row.pms_updated_at > parsed.pms_updated_at => {
                        counts.stale += 1;
                        continue;
                    }
                    Some(row) => {
                        let stored_lines = invoice_line::Entity::find()
                            .filter(invoice_line::Column::InvoiceId.eq(row.id))
                            .order_by_asc(invoice_line::Column::LineNo)
                            .all(self.conn)
                            .await?;
                        let same_lines = stored_lines.len() == lines.len()
                            && stored_lines.iter().zip(&lines).all(|(a, b)| {
                                *a == invoice_line::Model { id: a.id, invoice_id: a.invoice_id, ..b.clone() }
                            });
                        if *row == (invoice::Model { id: row.id, ..parsed.clone() }) && same_lines {
                            counts.unchanged += 1;
                            continue;
                        }
                        counts.updated += 1;
                        self.touched_pms.insert(row.client_pms_id.clone());
                        invoice_line::Entity::delete_many()
                            .filter(invoice_line::Column::InvoiceId.eq(row.id))
                            .exec(self.conn)
                            .await?;
                        invoice::Model { id: row.id, ..parsed.clone() }
                            .into_active_model()
                            .reset_all()
                            .update(self.conn)
                            .await?
                    }
                    None => {
                        counts.created += 1;
                        parsed.clone().into_active_model().insert(self.conn).await?
                    }
                };
                if !lines.is_empty() {
                    invoice_line::Entity::insert_many(
                        lines
                            .into_iter()
                            .map(|line| invoice_line::Model { invoice_id: row.id, ..line }.into_active_model()),
                    )
                    .exec(self.conn)
                    .await?;
                }
                self.touched_pms.insert(row.client_pms_id.clone());
                stored.insert(row.pms_id.clone(), row);
            }
        }
        self.counts.invoices = counts;
        Ok(())
    }
}

/// New rows waiting to be inserted together (one statement per chunk
/// instead of one per row), by PMS id.
struct Pending<A> {
    rows: Vec<A>,
    ids: HashSet<String>,
}

impl<A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send> Pending<A> {
    fn new() -> Self {
        Self { rows: Vec::new(), ids: HashSet::new() }
    }

    fn add(&mut self, pms_id: &str, row: A) {
        self.ids.insert(pms_id.to_owned());
        self.rows.push(row);
    }

    /// Inserts what waits. Call it before a row may be changed or referred to.
    async fn flush(&mut self, conn: &impl ConnectionTrait) -> DomainResult<()> {
        self.ids.clear();
        if self.rows.is_empty() {
            return Ok(());
        }
        A::Entity::insert_many(std::mem::take(&mut self.rows)).exec(conn).await?;
        Ok(())
    }

    /// Inserts what waits if `pms_id` is among it.
    async fn flush_if_waiting(&mut self, conn: &impl ConnectionTrait, pms_id: &str) -> DomainResult<()> {
        if self.ids.contains(pms_id) { self.flush(conn).await } else { Ok(()) }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A record the PMS sends whole and that links to others by PMS ids only.
trait LinkedRecord: Clone + PartialEq + Send + Sync + IntoActiveModel<Self::Active> {
    type Entity: EntityTrait<Model = Self>;
    type Active: ActiveModelTrait<Entity = Self::Entity> + sea_orm::ActiveModelBehavior + Send;
    const PRACTICE: <Self::Entity as EntityTrait>::Column;
    const PMS_ID: <Self::Entity as EntityTrait>::Column;
    fn pms_id(&self) -> &str;
    fn version(&self) -> DateTime<Utc>;
    fn client_pms_id(&self) -> &str;
    fn id(&self) -> Uuid;
    fn with_id(self, id: Uuid) -> Self;
}

macro_rules! linked_record {
    ($module:ident) => {
        impl LinkedRecord for $module::Model {
            type Entity = $module::Entity;
            type Active = $module::ActiveModel;
            const PRACTICE: $module::Column = $module::Column::PracticeId;
            const PMS_ID: $module::Column = $module::Column::PmsId;
            fn pms_id(&self) -> &str {
                &self.pms_id
            }
            fn version(&self) -> DateTime<Utc> {
                self.pms_updated_at
            }
            fn client_pms_id(&self) -> &str {
                &self.client_pms_id
            }
            fn id(&self) -> Uuid {
                self.id
            }
            fn with_id(self, id: Uuid) -> Self {
                Self { id, ..self }
            }
        }
    };
}

linked_record!(appointment);
linked_record!(reminder);

struct ParsedClient {
    pms_id: String,
    updated_at: DateTime<Utc>,
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    active: bool,
    last_transaction_on: Option<NaiveDate>,
}

fn parse_client(record: &ClientRecord) -> Result<ParsedClient, Rejection> {
    let pms_id = pms_id(&record.pms_id)?;
    let first_name = text(Some(&record.first_name), 100, "first_name")?.unwrap_or_default();
    let last_name = text(Some(&record.last_name), 100, "last_name")?.unwrap_or_default();
    if first_name.is_empty() && last_name.is_empty() {
        return Err(reject(Code::MissingName, "a client needs a first or last name"));
    }
    let email = record.email.as_deref().filter(|e| !e.trim().is_empty()).map(Email::parse).transpose()?;
    let phone = record.phone.as_deref().filter(|p| !p.trim().is_empty()).map(Phone::parse).transpose()?;
    Ok(ParsedClient {
        pms_id,
        updated_at: stored_time(record.updated_at),
        first_name,
        last_name,
        email: email.map(|e| e.as_str().to_lowercase()),
        phone: phone.map(|p| p.as_str().to_owned()),
        active: record.active,
        last_transaction_on: record.last_transaction_on,
    })
}

impl ParsedClient {
    fn same_as(&self, row: &client::Model) -> bool {
        row.pms_updated_at == Some(self.updated_at)
            && row.first_name == self.first_name
            && row.last_name == self.last_name
            && row.email == self.email
            && row.phone == self.phone
            && row.pms_active == self.active
            && row.last_transaction_on == self.last_transaction_on
    }

    fn write(&self, row: &mut client::ActiveModel, now: DateTime<Utc>) {
        row.pms_updated_at = Set(Some(self.updated_at));
        row.first_name = Set(self.first_name.clone());
        row.last_name = Set(self.last_name.clone());
        row.email = Set(self.email.clone());
        row.phone = Set(self.phone.clone());
        row.pms_active = Set(self.active);
        row.last_transaction_on = Set(self.last_transaction_on);
        row.updated_at = Set(now);
    }
}

struct ParsedPet {
    pms_id: String,
    updated_at: DateTime<Utc>,
    client_pms_id: String,
    name: String,
    species: Option<String>,
    breed: Option<String>,
    sex: Option<String>,
    date_of_birth: Option<NaiveDate>,
    status: PmsStatus,
}

fn parse_pet(record: &PetRecord) -> Result<ParsedPet, Rejection> {
    Ok(ParsedPet {
        pms_id: pms_id(&record.pms_id)?,
        updated_at: stored_time(record.updated_at),
        client_pms_id: pms_id(&record.client_pms_id)?,
        name: text(Some(&record.name), 100, "name")?.ok_or_else(|| reject(Code::MissingName, "a pet needs a name"))?,
        species: text(record.species.as_deref(), 50, "species")?,
        breed: text(record.breed.as_deref(), 100, "breed")?,
        sex: text(record.sex.as_deref(), 30, "sex")?,
        date_of_birth: record.date_of_birth,
        status: one_of(&record.status, "status")?,
    })
}

impl ParsedPet {
    fn same_as(&self, row: &pet::Model) -> bool {
        row.pms_updated_at == Some(self.updated_at)
            && row.name == self.name
            && row.species == self.species
            && row.breed == self.breed
            && row.sex == self.sex
            && row.date_of_birth == self.date_of_birth
            && row.pms_status == self.status
    }

    fn matches_owner_pet(&self, owner_pet: &pet::Model) -> bool {
        self.date_of_birth.is_some()
            && owner_pet.date_of_birth == self.date_of_birth
            && owner_pet.name.trim().to_lowercase() == self.name.to_lowercase()
    }

    fn write(&self, row: &mut pet::ActiveModel, owner: Uuid, before: Option<&pet::Model>, now: DateTime<Utc>) {
        let was_active = before.is_none_or(|b| b.pms_status == PmsStatus::Active);
        if self.status == PmsStatus::Active {
            row.status_changed_at = Set(None);
        } else if was_active || before.is_some_and(|b| b.pms_status != self.status) {
            // The PMS's own time of the change: replays and reordering agree.
            row.status_changed_at = Set(Some(self.updated_at));
        }
        row.client_id = Set(owner);
        row.pms_id = Set(Some(self.pms_id.clone()));
        row.pms_updated_at = Set(Some(self.updated_at));
        row.name = Set(self.name.clone());
        row.species = Set(self.species.clone());
        row.breed = Set(self.breed.clone());
        row.sex = Set(self.sex.clone());
        row.date_of_birth = Set(self.date_of_birth);
        row.pms_status = Set(self.status);
        row.updated_at = Set(now);
    }
}

fn parse_appointment(scope: Scope, record: &AppointmentRecord) -> Result<appointment::Model, Rejection> {
    Ok(appointment::Model {
        id: Uuid::new_v4(),
        practice_id: scope.practice_id,
        pms_id: pms_id(&record.pms_id)?,
        pms_updated_at: stored_time(record.updated_at),
        client_pms_id: pms_id(&record.client_pms_id)?,
        pet_pms_id: record.pet_pms_id.as_deref().map(pms_id).transpose()?,
        starts_at: stored_time(record.starts_at),
        reason: text(record.reason.as_deref(), 200, "reason")?,
        status: one_of(&record.status, "status")?,
    })
}

fn parse_reminder(scope: Scope, record: &ReminderRecord) -> Result<reminder::Model, Rejection> {
    Ok(reminder::Model {
        id: Uuid::new_v4(),
        practice_id: scope.practice_id,
        pms_id: pms_id(&record.pms_id)?,
        pms_updated_at: stored_time(record.updated_at),
        client_pms_id: pms_id(&record.client_pms_id)?,
        pet_pms_id: pms_id(&record.pet_pms_id)?,
        service: text(Some(&record.service), 200, "service")?
            .ok_or_else(|| reject(Code::MissingService, "a reminder names its service"))?,
        due_on: record.due_on,
        status: one_of(&record.status, "status")?,
    })
}

fn parse_invoice(
    scope: Scope,
    record: &InvoiceRecord,
) -> Result<(invoice::Model, Vec<invoice_line::Model>), Rejection> {
    let invoice = invoice::Model {
        id: Uuid::new_v4(),
        practice_id: scope.practice_id,
        pms_id: pms_id(&record.pms_id)?,
        pms_updated_at: stored_time(record.updated_at),
        client_pms_id: pms_id(&record.client_pms_id)?,
        invoiced_on: record.invoiced_on,
        voided: record.voided,
        total_cents: match record.total {
            None => None,
            Some(total) if total.is_finite() && (0.0..=10_000_000.0).contains(&total) => {
                // Bounded above, so the cents fit.
                #[allow(clippy::cast_possible_truncation)]
                Some((total * 100.0).round() as i64)
            }
            Some(_) => return Err(reject(Code::InvalidTotal, "a total is between 0 and 10,000,000")),
        },
    };
    if record.lines.len() > 500 {
        return Err(reject(Code::TooManyLines, "an invoice has at most 500 lines"));
    }
    let mut lines = Vec::with_capacity(record.lines.len());
    for (number, line) in record.lines.iter().enumerate() {
        if !line.quantity.is_finite() {
            return Err(reject(Code::InvalidQuantity, format!("line {} has no valid quantity", number + 1)));
        }
        lines.push(invoice_line::Model {
            id: Uuid::new_v4(),
            invoice_id: invoice.id,
            line_no: i32::try_from(number + 1).unwrap_or(i32::MAX),
            code: text(Some(&line.code), 32, "code")?
                .ok_or_else(|| reject(Code::MissingCode, format!("line {} has no item code", number + 1)))?
                .to_uppercase(),
            description: text(line.description.as_deref(), 200, "description")?,
            quantity: line.quantity,
            pet_pms_id: line.pet_pms_id.as_deref().map(pms_id).transpose()?,
            provider: text(line.provider.as_deref(), 100, "provider")?,
            performed_on: line.performed_on.unwrap_or(record.invoiced_on),
            voided: line.voided,
        });
    }
    Ok((invoice, lines))
}

/// Applies a batch in one transaction and records it.
pub async fn apply(platform: &Platform, scope: Scope, source: Source, batch: &Batch) -> DomainResult<BatchReport> {
    if batch.len() > MAX_BATCH_RECORDS {
        return Err(DomainError::with(
            Code::BatchTooLarge,
            format!("a batch carries at most {MAX_BATCH_RECORDS} records; split it"),
        ));
    }
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let mut run = Apply {
        conn: &txn,
        scope,
        now,
        counts: Counts::default(),
        errors: Vec::new(),
        touched: HashSet::new(),
        touched_pms: HashSet::new(),
        died: Vec::new(),
    };
    // Owners first, so pets find them; pets before the records naming them.
    run.clients(&batch.clients).await?;
    run.pets(&batch.pets).await?;
    run.counts.appointments = run.linked("appointments", &batch.appointments, |r| &r.pms_id, parse_appointment).await?;
    run.counts.reminders = run.linked("reminders", &batch.reminders, |r| &r.pms_id, parse_reminder).await?;
    run.invoices(&batch.invoices).await?;
    let Apply { counts, errors, mut touched, touched_pms, died, .. } = run;
    if !died.is_empty() {
        let today = practices::get(platform, scope).await?.today(now);
        for pet_id in died {
            lifecycle::hold_for_deceased_pet(&txn, platform, scope, pet_id, today).await?;
        }
    }
    let pms_ids: Vec<String> = touched_pms.into_iter().collect();
    for chunk in pms_ids.chunks(CHUNK) {
        let ids = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .filter(client::Column::PracticeId.eq(scope.practice_id))
            .filter(client::Column::PmsId.is_in(chunk.to_vec()))
            .into_tuple::<Uuid>()
            .all(&txn)
            .await?;
        touched.extend(ids);
    }
    let touched: Vec<Uuid> = touched.into_iter().collect();
    clients::refresh_listings(&txn, platform, scope, &touched).await?;

    let (key_id, source_name) = match source {
        Source::Api(key) => (Some(key), "api"),
        Source::Import => (None, "import"),
    };
    let record = sync_batch::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        key_id: Set(key_id),
        source: Set(source_name.to_owned()),
        received_at: Set(now),
        counts: Set(serde_json::to_value(counts).map_err(DomainError::unexpected)?),
        errors: Set(serde_json::to_value(&errors).map_err(DomainError::unexpected)?),
        error_count: Set(i32::try_from(errors.len()).unwrap_or(i32::MAX)),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let created = [counts.clients, counts.pets, counts.appointments, counts.reminders, counts.invoices]
        .iter()
        .map(|k| k.created)
        .sum::<u32>();
    if created >= BULK_LOAD && platform.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // A first sync grows these tables far past what PostgreSQL's planner
        // last saw; on stale statistics it picks sequential scans for the
        // next batch's lookups, and each batch gets slower than the last.
        platform
            .db
            .execute_unprepared("ANALYZE clients, pets, appointments, reminders, invoices, invoice_lines")
            .await?;
    }
    Ok(BatchReport { id: record.id, received_at: now, source: record.source, counts, errors })
}

/// The latest batches of a practice, newest first.
pub async fn batches(platform: &Platform, scope: Scope, limit: u64) -> DomainResult<Vec<BatchReport>> {
    sync_batch::Entity::find()
        .filter(sync_batch::Column::PracticeId.eq(scope.practice_id))
        .order_by_desc(sync_batch::Column::ReceivedAt)
        .limit(limit)
        .all(&platform.db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(BatchReport {
                id: row.id,
                received_at: row.received_at,
                source: row.source,
                counts: serde_json::from_value(row.counts).map_err(DomainError::unexpected)?,
                errors: serde_json::from_value(row.errors).map_err(DomainError::unexpected)?,
            })
        })
        .collect()
}

/// A key as created: the secret is shown this once.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The stored key.
    pub key: sync_key::Model,
    /// The secret to give the agent.
    pub secret: String,
}

/// Creates an API key for the practice's agent.
pub async fn create_key(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    name: &str,
) -> DomainResult<NewKey> {
    let txn = platform.begin_write().await?;
    let new = insert_key(&txn, platform, scope, actor, origin, name).await?;
    txn.commit().await?;
    Ok(new)
}

async fn insert_key(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    name: &str,
) -> DomainResult<NewKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::with(Code::InvalidName, "a key name has 1 to 100 characters"));
    }
    let secret = format!("{KEY_PREFIX}{}", tokens::random_token()?);
    let key = sync_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        name: Set(name.to_owned()),
        key_hash: Set(tokens::token_hash(&secret)),
        key_prefix: Set(secret.chars().take(KEY_PREFIX.len() + 6).collect()),
        created_at: Set(platform.clock.now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Entry::new("sync_key.create", actor, origin)
        .target("sync_key", key.id)
        .detail(serde_json::json!({ "name": key.name }))
        .record(conn, platform, scope)
        .await?;
    Ok(NewKey { key, secret })
}

/// The practice's keys, newest first (revoked ones included).
pub async fn keys(platform: &Platform, scope: Scope) -> DomainResult<Vec<sync_key::Model>> {
    Ok(sync_key::Entity::find()
        .filter(sync_key::Column::PracticeId.eq(scope.practice_id))
        .order_by_desc(sync_key::Column::CreatedAt)
        .all(&platform.db)
        .await?)
}

/// Revokes a key at once.
pub async fn revoke_key(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
) -> DomainResult<()> {
    let key = sync_key::Entity::find_by_id(id)
        .filter(sync_key::Column::PracticeId.eq(scope.practice_id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    if key.revoked_at.is_some() {
        return Ok(());
    }
    let txn = platform.begin_write().await?;
    let mut active = key.into_active_model();
    active.revoked_at = Set(Some(platform.clock.now()));
    active.update(&txn).await?;
    Entry::new("sync_key.revoke", actor, origin).target("sync_key", id).record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces a key by a new one with the same name; the old one stops
/// working. One transaction: there is never a moment with both keys or none.
pub async fn rotate_key(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
) -> DomainResult<NewKey> {
    let txn = platform.begin_write().await?;
    let old = sync_key::Entity::find_by_id(id)
        .filter(sync_key::Column::PracticeId.eq(scope.practice_id))
        .filter(sync_key::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let new = insert_key(&txn, platform, scope, actor, origin, &old.name).await?;
    let mut revoked = old.into_active_model();
    revoked.revoked_at = Set(Some(platform.clock.now()));
    revoked.update(&txn).await?;
    let entry = Entry::new("sync_key.revoke", actor, origin)
        .target("sync_key", id)
        .detail(serde_json::json!({ "replaced_by": new.key.id }));
    entry.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(new)
}

/// The practice and key a secret belongs to, if it is live.
pub async fn authenticate(platform: &Platform, secret: &str) -> DomainResult<(Scope, Uuid)> {
    let unauthorized = || DomainError::from(Code::InvalidSyncKey);
    if !secret.starts_with(KEY_PREFIX) {
        return Err(unauthorized());
    }
    let key = sync_key::Entity::find()
        .filter(sync_key::Column::KeyHash.eq(tokens::token_hash(secret)))
        .filter(sync_key::Column::RevokedAt.is_null())
        .one(&platform.db)
        .await?
        .ok_or_else(unauthorized)?;
    let now = platform.clock.now();
    if key.last_used_at.is_none_or(|at| now - at > chrono::Duration::minutes(1)) {
        sync_key::Entity::update_many()
            .col_expr(sync_key::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(sync_key::Column::Id.eq(key.id))
            .exec(&platform.db)
            .await?;
    }
    Ok((Scope { practice_id: key.practice_id }, key.id))
}
