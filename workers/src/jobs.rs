//! Timed jobs: campaigns that are due (blasts, Reinvite All), the
//! reminders (past-due services, appointments, surveys), paws earned
//! from synced invoices, plans started, completed and renewed, and their
//! payments charged, with the practice's policy for payments never paid
//! and the staff's daily digest of payment trouble. Every worker process runs them; each send and each
//! charge is claimed in the database, so running them in several processes
//! at once sends and charges nothing twice.

use std::time::Duration;

use petbridge_domain::{
    DomainResult, Platform, campaigns, loyalty,
    payments::{charges, digest},
    plans::{final_failures, renewals},
    reminders,
};
use tokio_util::sync::CancellationToken;

/// What one run of the jobs did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobRun {
    /// Campaigns whose deliveries were queued.
    pub campaigns: u32,
    /// Households reminded.
    pub reminders: reminders::ReminderRun,
    /// Paws earned from (or taken back with) synced invoices.
    pub invoice_paws: loyalty::InvoicePaws,
    /// Plans started, completed and renewed.
    pub renewals: renewals::RenewalRun,
    /// Payments charged, declined or still awaiting the gateway.
    pub charges: charges::ChargeRun,
    /// Payments whose retries ran out that the final-failure policy was applied to.
    pub final_failures: u32,
    /// Practices whose staff were sent the day's payments digest.
    pub digests: u32,
}

/// Runs the timed jobs.
#[derive(Clone)]
pub struct Jobs {
    platform: Platform,
}

impl Jobs {
    /// The jobs of `platform`.
    pub fn new(platform: Platform) -> Self {
        Self { platform }
    }

    /// Runs every job once. Tests call this after moving the clock.
    pub async fn step(&self) -> DomainResult<JobRun> {
        let campaigns = campaigns::run_due(&self.platform).await?;
        let reminders = reminders::run_due(&self.platform).await?;
        let invoice_paws = loyalty::run_invoice_rule(&self.platform).await?;
        let renewals = renewals::run_due(&self.platform).await?;
        // After renewals: a plan that starts today is active by now.
        let charges = charges::run_due(&self.platform).await?;
        let final_failures = final_failures::run_due(&self.platform).await?;
        // After the policy: the digest says which one each payment met.
        let digests = digest::run_due(&self.platform).await?;
        Ok(JobRun { campaigns, reminders, invoice_paws, renewals, charges, final_failures, digests })
    }

    /// Runs the jobs every `interval` until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken, interval: Duration) {
        tracing::info!("timed jobs started");
        let jobs = &self;
        crate::repeat(shutdown, || async move {
            match jobs.step().await {
                Ok(run) if run != JobRun::default() => tracing::info!(?run, "timed jobs queued deliveries"),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "timed jobs failed"),
            }
            interval
        })
        .await;
        tracing::info!("timed jobs stopped");
    }
}
