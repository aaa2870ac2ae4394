//! Wellness-plan templates (PLANS.md A1). A template is the practice's
//! product (its code, and whether it is still sold); what it holds, prices
//! and items, lives in numbered versions: editing makes a new version, and a
//! plan keeps the version it was sold on.

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
    PracticeId,
    Code,
    CurrentVersion,
    RetiredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanTemplateVersions {
    Table,
    Id,
    TemplateId,
    Version,
    Name,
    Species,
    MinAgeMonths,
    MaxAgeMonths,
    TermMonths,
    RenewsIntoId,
    MonthlyPriceCents,
    PaidInFullPriceCents,
    InitialFeeCents,
    NonPlanDiscountPercent,
    AgreementText,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PlanTemplateItems {
    Table,
    Id,
    VersionId,
    Position,
    Description,
    Code,
    AlternateCodes,
    Quantity,
    RetailPriceCents,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanTemplates::Table)
                    .col(pk_uuid(PlanTemplates::Id))
                    .col(uuid(PlanTemplates::PracticeId))
                    .col(string(PlanTemplates::Code))
                    .col(integer(PlanTemplates::CurrentVersion))
                    .col(timestamp_with_time_zone_null(PlanTemplates::RetiredAt))
                    .col(timestamp_with_time_zone(PlanTemplates::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanTemplates::Table, PlanTemplates::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_templates_practice_code")
                    .table(PlanTemplates::Table)
                    .col(PlanTemplates::PracticeId)
                    .col(PlanTemplates::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanTemplateVersions::Table)
                    .col(pk_uuid(PlanTemplateVersions::Id))
                    .col(uuid(PlanTemplateVersions::TemplateId))
                    .col(integer(PlanTemplateVersions::Version))
                    .col(string(PlanTemplateVersions::Name))
                    .col(string_null(PlanTemplateVersions::Species))
                    .col(integer(PlanTemplateVersions::MinAgeMonths))
                    .col(integer_null(PlanTemplateVersions::MaxAgeMonths))
                    .col(integer(PlanTemplateVersions::TermMonths))
                    .col(uuid_null(PlanTemplateVersions::RenewsIntoId))
                    .col(big_integer(PlanTemplateVersions::MonthlyPriceCents))
                    .col(big_integer(PlanTemplateVersions::PaidInFullPriceCents))
                    .col(big_integer(PlanTemplateVersions::InitialFeeCents))
                    .col(integer_null(PlanTemplateVersions::NonPlanDiscountPercent))
                    .col(text(PlanTemplateVersions::AgreementText))
                    .col(string(PlanTemplateVersions::CreatedBy))
                    .col(timestamp_with_time_zone(PlanTemplateVersions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanTemplateVersions::Table, PlanTemplateVersions::TemplateId)
                            .to(PlanTemplates::Table, PlanTemplates::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_template_versions_template_version")
                    .table(PlanTemplateVersions::Table)
                    .col(PlanTemplateVersions::TemplateId)
                    .col(PlanTemplateVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanTemplateItems::Table)
                    .col(pk_uuid(PlanTemplateItems::Id))
                    .col(uuid(PlanTemplateItems::VersionId))
                    .col(integer(PlanTemplateItems::Position))
                    .col(string(PlanTemplateItems::Description))
                    .col(string(PlanTemplateItems::Code))
                    // The other WP codes the PMS may bill the same item under, space-separated.
                    .col(string(PlanTemplateItems::AlternateCodes))
                    // None: unlimited.
                    .col(integer_null(PlanTemplateItems::Quantity))
                    .col(big_integer(PlanTemplateItems::RetailPriceCents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanTemplateItems::Table, PlanTemplateItems::VersionId)
                            .to(PlanTemplateVersions::Table, PlanTemplateVersions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_template_items_version")
                    .table(PlanTemplateItems::Table)
                    .col(PlanTemplateItems::VersionId)
                    .col(PlanTemplateItems::Position)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [PlanTemplateItems::Table.into_iden(), PlanTemplateVersions::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(PlanTemplates::Table).to_owned()).await
    }
}
