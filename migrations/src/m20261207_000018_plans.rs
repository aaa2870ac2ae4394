//! Plans sold on template versions (PLANS.md A2–A4), and each plan's
//! payment schedule (B1, B2): the rows the payments work charges.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlanTemplates {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlanTemplateVersions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    PracticeId,
    ClientId,
    PetId,
    TemplateId,
    VersionId,
    Status,
    Renewal,
    Billing,
    StartsOn,
    EndsOn,
    InitialFeeCents,
    FeeWaived,
    PaymentMethodSkipped,
    EnrolledById,
    EnrolledBy,
    ApprovedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanPayments {
    Table,
    Id,
    PracticeId,
    PlanId,
    Number,
    Kind,
    DueOn,
    AmountCents,
    Status,
    SettledAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .col(pk_uuid(Plans::Id))
                    .col(uuid(Plans::PracticeId))
                    .col(uuid(Plans::ClientId))
                    .col(uuid(Plans::PetId))
                    .col(uuid(Plans::TemplateId))
                    .col(uuid(Plans::VersionId))
                    // pending, active, on_hold, past_due, completed or cancelled.
                    .col(string(Plans::Status))
                    // auto, manual or do_not_renew.
                    .col(string(Plans::Renewal))
                    // monthly or paid_in_full.
                    .col(string(Plans::Billing))
                    .col(date(Plans::StartsOn))
                    .col(date(Plans::EndsOn))
                    .col(big_integer(Plans::InitialFeeCents))
                    .col(boolean(Plans::FeeWaived))
                    .col(boolean(Plans::PaymentMethodSkipped))
                    .col(uuid_null(Plans::EnrolledById))
                    .col(string(Plans::EnrolledBy))
                    .col(string_null(Plans::ApprovedBy))
                    .col(timestamp_with_time_zone(Plans::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::TemplateId)
                            .to(PlanTemplates::Table, PlanTemplates::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plans::Table, Plans::VersionId)
                            .to(PlanTemplateVersions::Table, PlanTemplateVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plans_practice_client")
                    .table(Plans::Table)
                    .col(Plans::PracticeId)
                    .col(Plans::ClientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("plans_pet").table(Plans::Table).col(Plans::PetId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanPayments::Table)
                    .col(pk_uuid(PlanPayments::Id))
                    .col(uuid(PlanPayments::PracticeId))
                    .col(uuid(PlanPayments::PlanId))
                    .col(integer(PlanPayments::Number))
                    // initial, instalment or supplemental.
                    .col(string(PlanPayments::Kind))
                    .col(date(PlanPayments::DueOn))
                    .col(big_integer(PlanPayments::AmountCents))
                    .col(string(PlanPayments::Status))
                    .col(timestamp_with_time_zone_null(PlanPayments::SettledAt))
                    .col(timestamp_with_time_zone(PlanPayments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanPayments::Table, PlanPayments::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_payments_plan_number")
                    .table(PlanPayments::Table)
                    .col(PlanPayments::PlanId)
                    .col(PlanPayments::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_payments_due")
                    .table(PlanPayments::Table)
                    .col(PlanPayments::Status)
                    .col(PlanPayments::DueOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanPayments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Plans::Table).to_owned()).await
    }
}
