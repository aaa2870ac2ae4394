//! The healthcare agreement (PLANS.md A12): each plan keeps every agreement
//! it was issued (at enrolment, each change and each renewal) as the PDF
//! the owner was shown, with its SHA-256 and, once the owner signs, the
//! signing record. A plan may name a co-owner, who signs too.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    CoOwner,
}

#[derive(DeriveIden)]
enum PlanAgreements {
    Table,
    Id,
    PracticeId,
    PlanId,
    Number,
    Occasion,
    Reference,
    Sha256,
    Pdf,
    IssuedBy,
    CreatedAt,
    SignedName,
    SignedAt,
    SignedAddress,
    SignedUserAgent,
    SignedStatement,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Plans::Table).add_column(string_null(Plans::CoOwner)).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanAgreements::Table)
                    .col(pk_uuid(PlanAgreements::Id))
                    .col(uuid(PlanAgreements::PracticeId))
                    .col(uuid(PlanAgreements::PlanId))
                    .col(integer(PlanAgreements::Number))
                    .col(string(PlanAgreements::Occasion))
                    .col(string(PlanAgreements::Reference))
                    .col(string(PlanAgreements::Sha256))
                    .col(blob(PlanAgreements::Pdf))
                    .col(string(PlanAgreements::IssuedBy))
                    .col(timestamp_with_time_zone(PlanAgreements::CreatedAt))
                    .col(string_null(PlanAgreements::SignedName))
                    .col(timestamp_with_time_zone_null(PlanAgreements::SignedAt))
                    .col(string_null(PlanAgreements::SignedAddress))
                    .col(string_null(PlanAgreements::SignedUserAgent))
                    .col(text_null(PlanAgreements::SignedStatement))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanAgreements::Table, PlanAgreements::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_agreements_plan_number")
                    .table(PlanAgreements::Table)
                    .col(PlanAgreements::PlanId)
                    .col(PlanAgreements::Number)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanAgreements::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Plans::Table).drop_column(Plans::CoOwner).to_owned()).await
    }
}
