//! Texting: each practice's own number (inbound texts find their practice by
//! it), the numbers that opted out of a practice's texts, the texts received
//! (two-way texting), and the provider's last word on each sent delivery.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
    SmsNumber,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    ProviderStatus,
}

#[derive(DeriveIden)]
enum SmsOptOuts {
    Table,
    Id,
    PracticeId,
    Phone,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TextMessages {
    Table,
    Id,
    PracticeId,
    ClientId,
    Phone,
    Body,
    ProviderSid,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Practices::Table)
                    .add_column(ColumnDef::new(Practices::SmsNumber).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("practices_sms_number")
                    .table(Practices::Table)
                    .col(Practices::SmsNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::ProviderStatus).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsOptOuts::Table)
                    .col(pk_uuid(SmsOptOuts::Id))
                    .col(uuid(SmsOptOuts::PracticeId))
                    .col(string(SmsOptOuts::Phone))
                    .col(string(SmsOptOuts::Source))
                    .col(timestamp_with_time_zone(SmsOptOuts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SmsOptOuts::Table, SmsOptOuts::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sms_opt_outs_number")
                    .table(SmsOptOuts::Table)
                    .col(SmsOptOuts::PracticeId)
                    .col(SmsOptOuts::Phone)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TextMessages::Table)
                    .col(pk_uuid(TextMessages::Id))
                    .col(uuid(TextMessages::PracticeId))
                    .col(uuid_null(TextMessages::ClientId))
                    .col(string(TextMessages::Phone))
                    .col(text(TextMessages::Body))
                    .col(string_uniq(TextMessages::ProviderSid))
                    .col(timestamp_with_time_zone(TextMessages::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TextMessages::Table, TextMessages::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TextMessages::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SmsOptOuts::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Deliveries::Table).drop_column(Deliveries::ProviderStatus).to_owned())
            .await?;
        manager.drop_index(Index::drop().name("practices_sms_number").table(Practices::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Practices::Table).drop_column(Practices::SmsNumber).to_owned())
            .await?;
        Ok(())
    }
}
