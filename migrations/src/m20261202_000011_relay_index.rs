//! The relay's index: queued rows by relay mark, then due time. Without it
//! each relay step walked every row relayed but not yet claimed (quadratic
//! in a large fan-out).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Status,
    RelayedAt,
    NextAttemptAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("deliveries_relay")
                    .table(Deliveries::Table)
                    .col(Deliveries::Status)
                    .col(Deliveries::RelayedAt)
                    .col(Deliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("deliveries_relay").table(Deliveries::Table).to_owned()).await
    }
}
