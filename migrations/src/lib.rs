//! Schema migrations, written once for SQLite and PostgreSQL.
//!
//! Old migrations never import today's entities: each one names its tables and
//! columns itself, so it keeps meaning what it meant when it shipped.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_platform;
mod m20261123_000002_staff_security;
mod m20261123_000003_performance;
mod m20261123_000004_two_factor;
mod m20261123_000005_staff_pictures;
mod m20261123_000006_clients;
mod m20261202_000007_delivery_relay;
mod m20261202_000008_texts;
mod m20261202_000009_preferences;
mod m20261202_000010_conversations;
mod m20261202_000011_relay_index;
mod m20261202_000012_chat;
mod m20261202_000013_owner_app;
mod m20261202_000014_relay_claims;
mod m20261203_000015_queued_due;
mod m20261204_000016_sealed_secrets;
mod m20261207_000017_plan_templates;
mod m20261207_000018_plans;
mod m20261207_000019_plan_lifecycle;
mod m20261207_000020_plan_renewals;
mod m20261207_000021_plan_add_ons;
mod m20261207_000022_plan_agreements;
mod m20261207_000023_payments;
mod m20261207_000024_payment_changes;
mod m20261207_000025_dunning;

/// Every migration, in the order it runs.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_platform::Migration),
            Box::new(m20261123_000002_staff_security::Migration),
            Box::new(m20261123_000003_performance::Migration),
            Box::new(m20261123_000004_two_factor::Migration),
            Box::new(m20261123_000005_staff_pictures::Migration),
            Box::new(m20261123_000006_clients::Migration),
            Box::new(m20261202_000007_delivery_relay::Migration),
            Box::new(m20261202_000008_texts::Migration),
            Box::new(m20261202_000009_preferences::Migration),
            Box::new(m20261202_000010_conversations::Migration),
            Box::new(m20261202_000011_relay_index::Migration),
            Box::new(m20261202_000012_chat::Migration),
            Box::new(m20261202_000013_owner_app::Migration),
            Box::new(m20261202_000014_relay_claims::Migration),
            Box::new(m20261203_000015_queued_due::Migration),
            Box::new(m20261204_000016_sealed_secrets::Migration),
            Box::new(m20261207_000017_plan_templates::Migration),
            Box::new(m20261207_000018_plans::Migration),
            Box::new(m20261207_000019_plan_lifecycle::Migration),
            Box::new(m20261207_000020_plan_renewals::Migration),
            Box::new(m20261207_000021_plan_add_ons::Migration),
            Box::new(m20261207_000022_plan_agreements::Migration),
            Box::new(m20261207_000023_payments::Migration),
            Box::new(m20261207_000024_payment_changes::Migration),
            Box::new(m20261207_000025_dunning::Migration),
        ]
    }
}
