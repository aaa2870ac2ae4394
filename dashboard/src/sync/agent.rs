//! The PMS sync API, `/api/sync/v1`, for the agent that runs at a practice.
//! It authenticates with a per-practice API key (`Authorization: Bearer
//! pbsync_…`) that administrators create, rotate and revoke in the dashboard.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    sync::{self, Batch, BatchReport, KindCounts, RecordError, Source},
};
use petbridge_http::{
    ApiError, ApiResult,
    fields::{Items, Limited},
};
use poem::{Request, http::StatusCode, web::Data};
use poem_openapi::{Object, OpenApi, SecurityScheme, auth::Bearer, payload::Json};
use uuid::Uuid;

/// The sync API.
pub struct SyncApi;

/// A practice's sync key, sent as `Authorization: Bearer pbsync_…`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_key")]
pub struct SyncKey((petbridge_domain::Scope, Uuid));

async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<(petbridge_domain::Scope, Uuid)> {
    let platform = req
        .data::<Platform>()
        .ok_or_else(|| poem::Error::from_string("platform missing", StatusCode::INTERNAL_SERVER_ERROR))?;
    sync::authenticate(platform, &bearer.token)
        .await
        .map_err(|err| poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(err))))
}

/// What the agent checks before it syncs.
#[derive(Debug, Object)]
pub struct SyncStatus {
    /// This API's version.
    pub api_version: String,
    /// The server's clock, so the agent can tell its own is off.
    pub server_time: DateTime<Utc>,
}

/// A client (household) as the PMS has it.
#[derive(Debug, Object)]
pub struct ClientRecord {
    /// The PMS's id for the client.
    pub pms_id: String,
    /// When the PMS last changed the record; an older version never overwrites a newer one.
    pub updated_at: DateTime<Utc>,
    /// First name.
    #[oai(default)]
    pub first_name: String,
    /// Last name.
    #[oai(default)]
    pub last_name: String,
    /// Email (matches app sign-ups to this client).
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Whether the client is active in the PMS (default true).
    pub active: Option<bool>,
    /// The day of the client's latest transaction (only clients with one in the last 24 months are listed).
    pub last_transaction_on: Option<NaiveDate>,
}

/// A pet as the PMS has it.
#[derive(Debug, Object)]
pub struct PetRecord {
    /// The PMS's id for the pet.
    pub pms_id: String,
    /// When the PMS last changed the record.
    pub updated_at: DateTime<Utc>,
    /// The owner's PMS id.
    pub client_pms_id: String,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// `active` (default), `inactive` or `deceased`; the last two leave the app 24–48 hours later.
    pub status: Option<String>,
}

/// An appointment booked in the PMS.
#[derive(Debug, Object)]
pub struct AppointmentRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed the record.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// The pet's PMS id.
    pub pet_pms_id: Option<String>,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// `scheduled` (default), `completed` or `cancelled`.
    pub status: Option<String>,
}

/// A health-service reminder with its due date.
#[derive(Debug, Object)]
pub struct ReminderRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed the record.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// The pet's PMS id.
    pub pet_pms_id: String,
    /// The service, e.g. "Rabies vaccine".
    pub service: String,
    /// When it is due; past due after that day.
    pub due_on: NaiveDate,
    /// `pending` (default), `completed` or `cancelled`.
    pub status: Option<String>,
}

/// An invoice line.
#[derive(Debug, Object)]
pub struct InvoiceLineRecord {
    /// Item code (wellness-plan items start with WP).
    pub code: String,
    /// Description.
    pub description: Option<String>,
    /// Quantity (negative in corrections).
    pub quantity: f64,
    /// The pet's PMS id.
    pub pet_pms_id: Option<String>,
    /// Who provided it.
    pub provider: Option<String>,
    /// When; the invoice's date when absent.
    pub performed_on: Option<NaiveDate>,
    /// Voided.
    #[oai(default)]
    pub voided: bool,
}

/// An invoice with its lines (the lines replace the stored ones).
#[derive(Debug, Object)]
pub struct InvoiceRecord {
    /// The PMS's id.
    pub pms_id: String,
    /// When the PMS last changed the record.
    pub updated_at: DateTime<Utc>,
    /// The client's PMS id.
    pub client_pms_id: String,
    /// Invoice date.
    pub invoiced_on: NaiveDate,
    /// Voided.
    #[oai(default)]
    pub voided: bool,
    /// The total in the practice's currency (e.g. 123.45): app households
    /// earn loyalty paws from it when the practice sets a rule.
    pub total: Option<f64>,
    /// Lines.
    #[oai(default)]
    pub lines: Vec<InvoiceLineRecord>,
}

/// The records of one kind in a batch. A batch carries at most
/// [`sync::MAX_BATCH_RECORDS`] records of all kinds together; each list's
/// limit says the same of it alone.
type Records<T> = Limited<Vec<T>, Items<{ sync::MAX_BATCH_RECORDS }>>;

/// A batch of records; any list may be absent.
#[derive(Debug, Object)]
pub struct SyncBatch {
    /// Clients.
    #[oai(default)]
    pub clients: Records<ClientRecord>,
    /// Pets.
    #[oai(default)]
    pub pets: Records<PetRecord>,
    /// Appointments.
    #[oai(default)]
    pub appointments: Records<AppointmentRecord>,
    /// Health-service reminders.
    #[oai(default)]
    pub reminders: Records<ReminderRecord>,
    /// Invoices.
    #[oai(default)]
    pub invoices: Records<InvoiceRecord>,
}

impl From<SyncBatch> for Batch {
    fn from(batch: SyncBatch) -> Self {
        Batch {
            clients: batch
                .clients
                .into_inner()
                .into_iter()
                .map(|r| sync::ClientRecord {
                    pms_id: r.pms_id,
                    updated_at: r.updated_at,
                    first_name: r.first_name,
                    last_name: r.last_name,
                    email: r.email,
                    phone: r.phone,
                    active: r.active.unwrap_or(true),
                    last_transaction_on: r.last_transaction_on,
                })
                .collect(),
            pets: batch
                .pets
                .into_inner()
                .into_iter()
                .map(|r| sync::PetRecord {
                    pms_id: r.pms_id,
                    updated_at: r.updated_at,
                    client_pms_id: r.client_pms_id,
                    name: r.name,
                    species: r.species,
                    breed: r.breed,
                    sex: r.sex,
                    date_of_birth: r.date_of_birth,
                    status: r.status.unwrap_or_else(|| "active".to_owned()),
                })
                .collect(),
            appointments: batch
                .appointments
                .into_inner()
                .into_iter()
                .map(|r| sync::AppointmentRecord {
                    pms_id: r.pms_id,
                    updated_at: r.updated_at,
                    client_pms_id: r.client_pms_id,
                    pet_pms_id: r.pet_pms_id,
                    starts_at: r.starts_at,
                    reason: r.reason,
                    status: r.status.unwrap_or_else(|| "scheduled".to_owned()),
                })
                .collect(),
            reminders: batch
                .reminders
                .into_inner()
                .into_iter()
                .map(|r| sync::ReminderRecord {
                    pms_id: r.pms_id,
                    updated_at: r.updated_at,
                    client_pms_id: r.client_pms_id,
                    pet_pms_id: r.pet_pms_id,
                    service: r.service,
                    due_on: r.due_on,
                    status: r.status.unwrap_or_else(|| "pending".to_owned()),
                })
                .collect(),
            invoices: batch
                .invoices
                .into_inner()
                .into_iter()
                .map(|r| sync::InvoiceRecord {
                    pms_id: r.pms_id,
                    updated_at: r.updated_at,
                    client_pms_id: r.client_pms_id,
                    invoiced_on: r.invoiced_on,
                    voided: r.voided,
                    total: r.total,
                    lines: r
                        .lines
                        .into_iter()
                        .map(|l| sync::InvoiceLineRecord {
                            code: l.code,
                            description: l.description,
                            quantity: l.quantity,
                            pet_pms_id: l.pet_pms_id,
                            provider: l.provider,
                            performed_on: l.performed_on,
                            voided: l.voided,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// What happened to the records of one kind.
#[derive(Debug, Object)]
pub struct Counts {
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
    /// Invalid records, listed in `errors`.
    pub rejected: u32,
}

impl From<KindCounts> for Counts {
    fn from(c: KindCounts) -> Self {
        Self {
            received: c.received,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            stale: c.stale,
            rejected: c.rejected,
        }
    }
}

/// A rejected record and why; the rest of its batch applied.
#[derive(Debug, Object)]
pub struct RejectedRecord {
    /// `clients`, `pets`, `appointments`, `reminders` or `invoices`.
    pub kind: String,
    /// Its position in that list.
    pub index: u32,
    /// Its PMS id as sent.
    pub pms_id: String,
    /// A stable code.
    pub code: String,
    /// For people.
    pub message: String,
}

impl From<RecordError> for RejectedRecord {
    fn from(e: RecordError) -> Self {
        Self { kind: e.kind, index: e.index, pms_id: e.pms_id, code: e.code, message: e.message }
    }
}

/// The outcome of a batch, as recorded for administrators.
#[derive(Debug, Object)]
pub struct BatchResult {
    /// The batch record's id.
    pub id: Uuid,
    /// When it was applied.
    pub received_at: DateTime<Utc>,
    /// `api` (the agent) or `import` (`petbridge sync import`).
    pub source: String,
    /// Clients.
    pub clients: Counts,
    /// Pets.
    pub pets: Counts,
    /// Appointments.
    pub appointments: Counts,
    /// Reminders.
    pub reminders: Counts,
    /// Invoices.
    pub invoices: Counts,
    /// Rejected records.
    pub errors: Vec<RejectedRecord>,
}

impl From<BatchReport> for BatchResult {
    fn from(report: BatchReport) -> Self {
        Self {
            id: report.id,
            received_at: report.received_at,
            source: report.source,
            clients: report.counts.clients.into(),
            pets: report.counts.pets.into(),
            appointments: report.counts.appointments.into(),
            reminders: report.counts.reminders.into(),
            invoices: report.counts.invoices.into(),
            errors: report.errors.into_iter().map(RejectedRecord::from).collect(),
        }
    }
}

#[OpenApi]
impl SyncApi {
    /// The API version and the server's time.
    #[oai(path = "/status", method = "get", operation_id = "getSyncStatus")]
    async fn status(&self, platform: Data<&Platform>) -> ApiResult<Json<SyncStatus>> {
        Ok(Json(SyncStatus { api_version: crate::API_VERSION.to_owned(), server_time: platform.clock.now() }))
    }

    /// Applies a batch: upserts keyed by PMS ids, in one transaction. Sending
    /// the same batch again changes nothing; records older than the stored
    /// ones are ignored; invalid records are listed in `errors` while the rest applies.
    #[oai(path = "/batches", method = "post", operation_id = "applySyncBatch")]
    async fn apply(
        &self,
        key: SyncKey,
        platform: Data<&Platform>,
        body: Json<SyncBatch>,
    ) -> ApiResult<Json<BatchResult>> {
        let (scope, key_id) = key.0;
        let report = sync::apply(&platform, scope, Source::Api(key_id), &Batch::from(body.0)).await?;
        Ok(Json(report.into()))
    }
}
