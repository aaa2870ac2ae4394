//! Dunning (PLANS.md B6): when a payment's last retry was declined, and
//! which of the practice's final-failure policies was applied to it; and the
//! day each practice's staff digest of payment trouble went out, so several
//! workers send it once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanPayments {
    Table,
    RetriesEndedAt,
    FinalFailure,
}

#[derive(DeriveIden)]
enum PaymentDigests {
    Table,
    PracticeId,
    Day,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let payment_columns =
            [timestamp_with_time_zone_null(PlanPayments::RetriesEndedAt), string_null(PlanPayments::FinalFailure)];
        for mut column in payment_columns {
            manager.alter_table(Table::alter().table(PlanPayments::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("plan_payments_retries_ended")
                    .table(PlanPayments::Table)
                    .col(PlanPayments::RetriesEndedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentDigests::Table)
                    .col(uuid(PaymentDigests::PracticeId))
                    .col(date(PaymentDigests::Day))
                    .col(timestamp_with_time_zone(PaymentDigests::SentAt))
                    .primary_key(Index::create().col(PaymentDigests::PracticeId).col(PaymentDigests::Day))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PaymentDigests::Table).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("plan_payments_retries_ended").table(PlanPayments::Table).to_owned())
            .await?;
        for column in [PlanPayments::FinalFailure.into_iden(), PlanPayments::RetriesEndedAt.into_iden()] {
            manager.alter_table(Table::alter().table(PlanPayments::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
