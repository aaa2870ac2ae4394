//! Payments through a gateway (PLANS.md B): the cards a client saved with
//! the gateway (its ids, brand, last four and expiry: never a number), each
//! plan's card and auto charge, every charge attempt stored before the
//! gateway is called (its id is the idempotency key), the failures and
//! next retry of each payment, and the gateway's webhook events by id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    PaymentProfileId,
    AutoCharge,
}

#[derive(DeriveIden)]
enum PlanPayments {
    Table,
    Id,
    Failures,
    RetryOn,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PaymentProfiles {
    Table,
    Id,
    PracticeId,
    ClientId,
    CustomerRef,
    MethodRef,
    Brand,
    Last4,
    ExpMonth,
    ExpYear,
    AddedBy,
    CreatedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum PaymentAttempts {
    Table,
    Id,
    PracticeId,
    PaymentId,
    ProfileId,
    AmountCents,
    Status,
    IntentRef,
    DeclineCode,
    Failure,
    StartedBy,
    StartedAt,
    SettledAt,
}

#[derive(DeriveIden)]
enum GatewayEvents {
    Table,
    Id,
    Kind,
    ObjectRef,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let plan_columns = [uuid_null(Plans::PaymentProfileId), boolean(Plans::AutoCharge).default(true).to_owned()];
        for mut column in plan_columns {
            manager.alter_table(Table::alter().table(Plans::Table).add_column(&mut column).to_owned()).await?;
        }
        let payment_columns = [integer(PlanPayments::Failures).default(0).to_owned(), date_null(PlanPayments::RetryOn)];
        for mut column in payment_columns {
            manager.alter_table(Table::alter().table(PlanPayments::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PaymentProfiles::Table)
                    .col(pk_uuid(PaymentProfiles::Id))
                    .col(uuid(PaymentProfiles::PracticeId))
                    .col(uuid(PaymentProfiles::ClientId))
                    .col(string(PaymentProfiles::CustomerRef))
                    .col(string(PaymentProfiles::MethodRef))
                    .col(string(PaymentProfiles::Brand))
                    .col(string(PaymentProfiles::Last4))
                    .col(integer(PaymentProfiles::ExpMonth))
                    .col(integer(PaymentProfiles::ExpYear))
                    .col(string(PaymentProfiles::AddedBy))
                    .col(timestamp_with_time_zone(PaymentProfiles::CreatedAt))
                    .col(timestamp_with_time_zone_null(PaymentProfiles::RemovedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentProfiles::Table, PaymentProfiles::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payment_profiles_client")
                    .table(PaymentProfiles::Table)
                    .col(PaymentProfiles::ClientId)
                    .to_owned(),
            )
            .await?;
        // A card saved twice (a setup read back twice) is one profile.
        manager
            .create_index(
                Index::create()
                    .name("payment_profiles_method")
                    .table(PaymentProfiles::Table)
                    .col(PaymentProfiles::PracticeId)
                    .col(PaymentProfiles::MethodRef)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentAttempts::Table)
                    .col(pk_uuid(PaymentAttempts::Id))
                    .col(uuid(PaymentAttempts::PracticeId))
                    .col(uuid(PaymentAttempts::PaymentId))
                    .col(uuid_null(PaymentAttempts::ProfileId))
                    .col(big_integer(PaymentAttempts::AmountCents))
                    .col(string(PaymentAttempts::Status))
                    .col(string_null(PaymentAttempts::IntentRef))
                    .col(string_null(PaymentAttempts::DeclineCode))
                    .col(string_null(PaymentAttempts::Failure))
                    .col(string(PaymentAttempts::StartedBy))
                    .col(timestamp_with_time_zone(PaymentAttempts::StartedAt))
                    .col(timestamp_with_time_zone_null(PaymentAttempts::SettledAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PaymentAttempts::Table, PaymentAttempts::PaymentId)
                            .to(PlanPayments::Table, PlanPayments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("payment_attempts_payment", PaymentAttempts::PaymentId),
            ("payment_attempts_status", PaymentAttempts::Status),
            ("payment_attempts_intent", PaymentAttempts::IntentRef),
        ] {
            manager
                .create_index(Index::create().name(name).table(PaymentAttempts::Table).col(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(GatewayEvents::Table)
                    .col(string(GatewayEvents::Id).primary_key())
                    .col(string(GatewayEvents::Kind))
                    .col(string_null(GatewayEvents::ObjectRef))
                    .col(timestamp_with_time_zone(GatewayEvents::ReceivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [GatewayEvents::Table.into_iden(), PaymentAttempts::Table.into_iden(), PaymentProfiles::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        for column in [PlanPayments::RetryOn.into_iden(), PlanPayments::Failures.into_iden()] {
            manager.alter_table(Table::alter().table(PlanPayments::Table).drop_column(column).to_owned()).await?;
        }
        for column in [Plans::AutoCharge.into_iden(), Plans::PaymentProfileId.into_iden()] {
            manager.alter_table(Table::alter().table(Plans::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
