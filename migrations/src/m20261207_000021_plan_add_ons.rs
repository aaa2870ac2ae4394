//! Add-on items (PLANS.md A2): an item of a template version may be an
//! optional add-on with a monthly price of its own, and a plan keeps the
//! add-ons chosen at enrolment with the price they were sold at.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanTemplateItems {
    Table,
    AddOnMonthlyCents,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlanAddOns {
    Table,
    Id,
    PlanId,
    ItemId,
    MonthlyCents,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PlanTemplateItems::Table)
                    .add_column(big_integer_null(PlanTemplateItems::AddOnMonthlyCents))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanAddOns::Table)
                    .col(pk_uuid(PlanAddOns::Id))
                    .col(uuid(PlanAddOns::PlanId))
                    .col(uuid(PlanAddOns::ItemId))
                    .col(big_integer(PlanAddOns::MonthlyCents))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanAddOns::Table, PlanAddOns::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_add_ons_plan_item")
                    .table(PlanAddOns::Table)
                    .col(PlanAddOns::PlanId)
                    .col(PlanAddOns::ItemId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanAddOns::Table).to_owned()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(PlanTemplateItems::Table)
                    .drop_column(PlanTemplateItems::AddOnMonthlyCents)
                    .to_owned(),
            )
            .await
    }
}
