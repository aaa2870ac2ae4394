//! Due deliveries are found per channel. A relay claims only for the streams
//! with room: while a large push blast fills its stream, it still claims
//! texts and emails, and with the old index (status, next time) that meant
//! walking every waiting push row and reading each one's channel, every step.

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

/// The due index: (status, channel, next attempt), or without the channel as before.
fn due_index(name: &str, by_channel: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Deliveries::Table).col(Deliveries::Status);
    if by_channel {
        index.col(Deliveries::Channel);
    }
    index.col(Deliveries::NextAttemptAt).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("deliveries_due").table(Deliveries::Table).to_owned()).await?;
        manager.create_index(due_index("deliveries_due_by_channel", true)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = Index::drop().name("deliveries_due_by_channel").table(Deliveries::Table).to_owned();
        manager.drop_index(drop).await?;
        manager.create_index(due_index("deliveries_due", false)).await
    }
}
