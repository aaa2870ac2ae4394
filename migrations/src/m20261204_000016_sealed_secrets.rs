//! Login-capable secrets leave what staff can read. A delivery that carries
//! a link which signs someone in (a password reset, an email verification)
//! keeps the link's secret in a column of its own, which the worker puts
//! back into the message at send time and which is cleared once the
//! delivery is settled; its stored body shows a stand-in.
//!
//! Bodies written before this carried such links in the clear, readable on
//! the Outbox page. The links still unused are spent here, so none of them
//! signs anyone in any more: their owners ask for a new one.
//!
//! A notification showing a favourite selfie names the selfie; the signed
//! link to its photo is made for the app when it reads its inbox, never
//! kept where staff read the history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Secret,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    SelfieId,
}

#[derive(DeriveIden)]
enum OwnerEmailTokens {
    Table,
    UsedAt,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::Secret).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(ColumnDef::new(Notifications::SelfieId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(OwnerEmailTokens::Table)
                    // Expired at their making: the column's own type on both databases.
                    .value(OwnerEmailTokens::ExpiresAt, Expr::col(OwnerEmailTokens::CreatedAt))
                    .and_where(Expr::col(OwnerEmailTokens::UsedAt).is_null())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Notifications::Table).drop_column(Notifications::SelfieId).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Deliveries::Table).drop_column(Deliveries::Secret).to_owned()).await
    }
}
