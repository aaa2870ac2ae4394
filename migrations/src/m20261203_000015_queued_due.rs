//! Due deliveries are found per channel, in an index of queued rows only.
//! A relay claims only for the streams with room: while a large push blast
//! fills its stream, it still claims texts and emails, and with the old
//! index (status, next time) that meant walking every waiting push row and
//! reading each one's channel, every step. Holding queued rows only, the
//! index stays as small as the queue however long the history grows, and a
//! row leaves it when its outcome is recorded instead of moving within it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Status,
    Channel,
    NextAttemptAt,
}

/// The due index of queued rows: (channel, next attempt). The claim names
/// `status = 'queued'` as a literal, which is what lets the planners use it.
fn queued_due() -> IndexCreateStatement {
    Index::create()
        .name("deliveries_queued_due")
        .table(Deliveries::Table)
        .col(Deliveries::Channel)
        .col(Deliveries::NextAttemptAt)
        .and_where(Expr::col(Deliveries::Status).eq("queued"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("deliveries_due").table(Deliveries::Table).to_owned()).await?;
        manager.create_index(queued_due()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("deliveries_queued_due").table(Deliveries::Table).to_owned()).await?;
        let due = Index::create()
            .name("deliveries_due")
            .table(Deliveries::Table)
            .col(Deliveries::Status)
            .col(Deliveries::NextAttemptAt)
            .to_owned();
        manager.create_index(due).await
    }
}
