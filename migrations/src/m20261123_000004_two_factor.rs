//! Optional two-factor login (TOTP) with recovery codes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
    TotpSecret,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    SecondFactorPending,
    SecondFactorFailures,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    StaffUserId,
    CodeHash,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            text_null(StaffUsers::TotpSecret),
            timestamp_with_time_zone_null(StaffUsers::TotpEnabledAt),
            big_integer_null(StaffUsers::TotpLastStep),
        ] {
            manager.alter_table(Table::alter().table(StaffUsers::Table).add_column(column).to_owned()).await?;
        }
        for column in [
            boolean(Sessions::SecondFactorPending).default(false).to_owned(),
            integer(Sessions::SecondFactorFailures).default(0).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Sessions::Table).add_column(column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(pk_uuid(RecoveryCodes::Id))
                    .col(uuid(RecoveryCodes::StaffUserId))
                    .col(string(RecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RecoveryCodes::Table, RecoveryCodes::StaffUserId)
                            .to(StaffUsers::Table, StaffUsers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recovery_codes_user")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::StaffUserId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
