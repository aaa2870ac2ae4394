//! What staff and the gateway do to payments after they are scheduled
//! (PLANS.md A9, B2, B3): a supplemental payment's purpose and note, and the
//! payment it replaces; each refund sent to the gateway, stored before the
//! call (its id is the idempotency key) like a charge attempt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanPayments {
    Table,
    Id,
    Purpose,
    Note,
    ReplacesId,
}

#[derive(DeriveIden)]
enum PaymentAttempts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PaymentRefunds {
    Table,
    Id,
    PracticeId,
    PaymentId,
    AttemptId,
    AmountCents,
    Status,
    RefundRef,
    Failure,
    StartedBy,
    StartedAt,
    SettledAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let payment_columns =
            [string_null(PlanPayments::Purpose), string_null(PlanPayments::Note), uuid_null(PlanPayments::ReplacesId)];
        for mut column in payment_columns {
            manager.alter_table(Table::alter().table(PlanPayments::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PaymentRefunds::Table)
                    .col(pk_uuid(PaymentRefunds::Id))
                    .col(uuid(PaymentRefunds::PracticeId))
                    .col(uuid(PaymentRefunds::PaymentId))
                    .col(uuid(PaymentRefunds::AttemptId))
                    .col(big_integer(PaymentRefunds::AmountCents))
                    .col(string(PaymentRefunds::Status))
                    .col(string_null(PaymentRefunds::RefundRef))
                    .col(string_null(PaymentRefunds::Failure))
                    .col(string(PaymentRefunds::StartedBy))
                    .col(timestamp_with_time_zone(PaymentRefunds::StartedAt))
                    .col(timestamp_with_time_zone_null(PaymentRefunds::SettledAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentRefunds::Table, PaymentRefunds::PaymentId)
                            .to(PlanPayments::Table, PlanPayments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentRefunds::Table, PaymentRefunds::AttemptId)
                            .to(PaymentAttempts::Table, PaymentAttempts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in
            [("payment_refunds_payment", PaymentRefunds::PaymentId), ("payment_refunds_status", PaymentRefunds::Status)]
        {
            manager
                .create_index(Index::create().name(name).table(PaymentRefunds::Table).col(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PaymentRefunds::Table).to_owned()).await?;
        for column in
            [PlanPayments::ReplacesId.into_iden(), PlanPayments::Note.into_iden(), PlanPayments::Purpose.into_iden()]
        {
            manager.alter_table(Table::alter().table(PlanPayments::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
