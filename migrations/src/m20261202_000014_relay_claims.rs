//! The relay claims a delivery as it puts it on a stream (the row rides in
//! the entry), so rows no longer carry a relay mark, nor the index that found
//! marked rows: a delivery is written twice on its way out, not three times.

use sea_orm_migration::prelude::*;

use super::m20261202_000007_delivery_relay::{Deliveries, add_relayed_at};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("deliveries_relay").table(Deliveries::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Deliveries::Table).drop_column(Deliveries::RelayedAt).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(add_relayed_at()).await?;
        super::m20261202_000011_relay_index::Migration.up(manager).await
    }
}
