//! `petbridge sync import FILE`: the sync API's ingestion from an export
//! file, applied in batches with a progress bar and a summary.
//!
//! A JSON file holds one batch document as the API takes it. A CSV file holds
//! one kind of record, named by `--kind` or the file name (`clients.csv`,
//! `pets.csv`, `appointments.csv`, `reminders.csv`, `invoices.csv`), with the
//! API's field names as headers; an invoice file has one row per line, with
//! the line's `code`, `quantity`, `description`, `pet_pms_id`, `provider`,
//! `performed_on` and `line_voided` beside the invoice's fields.

use std::path::Path;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use petbridge_domain::{
    Platform, Scope,
    sync::{self, Batch, Counts, InvoiceLineRecord, InvoiceRecord, KindCounts, RecordError, Source},
};
use serde::Deserialize;

/// Records applied per transaction.
const RECORDS_PER_BATCH: usize = 2_000;

/// The kinds of record a CSV file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Clients.
    Clients,
    /// Pets.
    Pets,
    /// Appointments.
    Appointments,
    /// Health-service reminders.
    Reminders,
    /// Invoices, one row per line.
    Invoices,
}

impl Kind {
    fn from_file_name(path: &Path) -> Option<Self> {
        let stem = path.file_stem()?.to_str()?.to_lowercase();
        [
            ("clients", Kind::Clients),
            ("pets", Kind::Pets),
            ("appointments", Kind::Appointments),
            ("reminders", Kind::Reminders),
            ("invoices", Kind::Invoices),
        ]
        .into_iter()
        .find(|(name, _)| stem.contains(name))
        .map(|(_, kind)| kind)
    }
}

#[derive(Deserialize)]
struct InvoiceRow {
    pms_id: String,
    updated_at: DateTime<Utc>,
    client_pms_id: String,
    invoiced_on: NaiveDate,
    #[serde(default)]
    voided: bool,
    total: Option<f64>,
    code: Option<String>,
    description: Option<String>,
    quantity: Option<f64>,
    pet_pms_id: Option<String>,
    provider: Option<String>,
    performed_on: Option<NaiveDate>,
    #[serde(default)]
    line_voided: bool,
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(row, record)| record.with_context(|| format!("{} row {}", path.display(), row + 2)))
        .collect()
}

fn invoices(rows: Vec<InvoiceRow>) -> Vec<InvoiceRecord> {
    let mut invoices: Vec<InvoiceRecord> = Vec::new();
    for row in rows {
        let line = row.code.map(|code| InvoiceLineRecord {
            code,
            description: row.description,
            quantity: row.quantity.unwrap_or(1.0),
            pet_pms_id: row.pet_pms_id,
            provider: row.provider,
            performed_on: row.performed_on,
            voided: row.line_voided,
        });
        match invoices.last_mut() {
            Some(last) if last.pms_id == row.pms_id => last.lines.extend(line),
            _ => invoices.push(InvoiceRecord {
                pms_id: row.pms_id,
                updated_at: row.updated_at,
                client_pms_id: row.client_pms_id,
                invoiced_on: row.invoiced_on,
                voided: row.voided,
                total: row.total,
                lines: line.into_iter().collect(),
            }),
        }
    }
    invoices
}

/// Reads an export file into one batch.
pub fn read(path: &Path, kind: Option<Kind>) -> anyhow::Result<Batch> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_lowercase();
    if extension == "json" {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        return serde_json::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("{} is not a sync batch document", path.display()));
    }
    if extension != "csv" {
        bail!("{} is neither .json nor .csv", path.display());
    }
    let kind = kind.or_else(|| Kind::from_file_name(path)).ok_or_else(|| {
        anyhow!(
            "say which records {} holds with --kind (clients, pets, appointments, reminders, invoices)",
            path.display()
        )
    })?;
    let mut batch = Batch::default();
    match kind {
        Kind::Clients => batch.clients = read_csv(path)?,
        Kind::Pets => batch.pets = read_csv(path)?,
        Kind::Appointments => batch.appointments = read_csv(path)?,
        Kind::Reminders => batch.reminders = read_csv(path)?,
        Kind::Invoices => batch.invoices = invoices(read_csv(path)?),
    }
    Ok(batch)
}

/// Splits a batch into parts of at most [`RECORDS_PER_BATCH`] records, owners first.
fn parts(batch: Batch) -> Vec<Batch> {
    fn split<T>(items: Vec<T>, place: fn(&mut Batch, Vec<T>), out: &mut Vec<Batch>) {
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut part = Batch::default();
            place(&mut part, items.by_ref().take(RECORDS_PER_BATCH).collect());
            out.push(part);
        }
    }
    let mut out = Vec::new();
    split(batch.clients, |b, v| b.clients = v, &mut out);
    split(batch.pets, |b, v| b.pets = v, &mut out);
    split(batch.appointments, |b, v| b.appointments = v, &mut out);
    split(batch.reminders, |b, v| b.reminders = v, &mut out);
    split(batch.invoices, |b, v| b.invoices = v, &mut out);
    out
}

fn add(total: &mut KindCounts, part: KindCounts) {
    total.received += part.received;
    total.created += part.created;
    total.updated += part.updated;
    total.unchanged += part.unchanged;
    total.stale += part.stale;
    total.rejected += part.rejected;
}

/// What an import did.
pub struct Summary {
    /// Counts per kind.
    pub counts: Counts,
    /// Rejected records (indexes count from the start of the file's list).
    pub errors: Vec<RecordError>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counts;
        for (name, k) in [
            ("clients", c.clients),
            ("pets", c.pets),
            ("appointments", c.appointments),
            ("reminders", c.reminders),
            ("invoices", c.invoices),
        ] {
            if k.received > 0 {
                writeln!(
                    f,
                    "{name:>12}: {} received, {} created, {} updated, {} unchanged, {} stale, {} rejected",
                    k.received, k.created, k.updated, k.unchanged, k.stale, k.rejected
                )?;
            }
        }
        for error in self.errors.iter().take(20) {
            writeln!(
                f,
                "rejected {} #{} ({}): {} [{}]",
                error.kind, error.index, error.pms_id, error.message, error.code
            )?;
        }
        if self.errors.len() > 20 {
            writeln!(f, "… and {} more rejected records", self.errors.len() - 20)?;
        }
        Ok(())
    }
}

/// Applies a batch in parts, showing progress on the terminal.
pub async fn apply(platform: &Platform, scope: Scope, batch: Batch, show_progress: bool) -> anyhow::Result<Summary> {
    let bar = if show_progress { ProgressBar::new(batch.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records ({per_sec}, {eta} left)")
            .map_err(|err| anyhow!("{err}"))?,
    );
    let mut summary = Summary { counts: Counts::default(), errors: Vec::new() };
    let mut offsets = [0u32; 5];
    for part in parts(batch) {
        let size = part.len() as u64;
        let report = sync::apply(platform, scope, Source::Import, &part).await.map_err(|err| anyhow!("{err}"))?;
        let c = &mut summary.counts;
        for (slot, (total, part_counts)) in [
            (&mut c.clients, report.counts.clients),
            (&mut c.pets, report.counts.pets),
            (&mut c.appointments, report.counts.appointments),
            (&mut c.reminders, report.counts.reminders),
            (&mut c.invoices, report.counts.invoices),
        ]
        .into_iter()
        .enumerate()
        {
            add(total, part_counts);
            for error in report.errors.iter().filter(|e| kind_slot(&e.kind) == Some(slot)) {
                summary.errors.push(RecordError { index: error.index + offsets[slot], ..error.clone() });
            }
            offsets[slot] += part_counts.received;
        }
        bar.inc(size);
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn kind_slot(kind: &str) -> Option<usize> {
    ["clients", "pets", "appointments", "reminders", "invoices"].iter().position(|k| *k == kind)
}
