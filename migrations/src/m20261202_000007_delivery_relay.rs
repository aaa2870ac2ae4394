//! The Redis relay's mark on each delivery, and what kind of identifier an
//! app registered for push (an FCM registration token today, a Firebase
//! installation id tomorrow: a data change, not a rewrite).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Deliveries {
    Table,
    RelayedAt,
}

#[derive(DeriveIden)]
enum OwnerDevices {
    Table,
    Kind,
}

/// The relay mark's column (dropped again by `m20261202_000014_relay_claims`).
pub(crate) fn add_relayed_at() -> TableAlterStatement {
    Table::alter()
        .table(Deliveries::Table)
        .add_column(ColumnDef::new(Deliveries::RelayedAt).timestamp_with_time_zone().null())
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager.alter_table(add_relayed_at()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OwnerDevices::Table)
                    .add_column(ColumnDef::new(OwnerDevices::Kind).string().not_null().default("fcm_token"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(OwnerDevices::Table).drop_column(OwnerDevices::Kind).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Deliveries::Table).drop_column(Deliveries::RelayedAt).to_owned())
            .await?;
        Ok(())
    }
}
