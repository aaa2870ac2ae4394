//! Renewals (PLANS.md A5, A6): a renewal is a plan of its own, pending
//! until its first day, that names the plan it renews; the plan being
//! renewed keeps why its automatic renewal was blocked, and the renewal
//! when its owner was told of it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    RenewsPlanId,
    RenewalBlocked,
    RenewalNoticeAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let columns = [
            uuid_null(Plans::RenewsPlanId),
            string_null(Plans::RenewalBlocked),
            timestamp_with_time_zone_null(Plans::RenewalNoticeAt),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Plans::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(Index::create().name("plans_renews").table(Plans::Table).col(Plans::RenewsPlanId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("plans_renews").table(Plans::Table).to_owned()).await?;
        for column in [Plans::RenewsPlanId, Plans::RenewalBlocked, Plans::RenewalNoticeAt] {
            manager.alter_table(Table::alter().table(Plans::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
