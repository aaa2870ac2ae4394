//! Communication preferences per household, what each delivery is for and
//! whom it reaches (checked against those preferences at send time), timed
//! campaigns (blasts, Reinvite All) run by the workers, the notices that keep
//! reminders to one per reminder or appointment, and the keys that sign
//! links in emails.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    ClientId,
    Purpose,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Title,
    Body,
    RunAt,
    DoneAt,
    CreatedBy,
    SentAt,
}

#[derive(DeriveIden)]
enum CommunicationPreferences {
    Table,
    ClientId,
    PracticeId,
    PostVisitSurveys,
    PostcardReminders,
    Email,
    TwoWayTexts,
    Push,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    PracticeId,
    ClientId,
    Subject,
    SubjectId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Name,
    Secret,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::ClientId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::Purpose).string().not_null().default("account"))
                    .to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new(Campaigns::Title).string().null().to_owned(),
            ColumnDef::new(Campaigns::Body).text().null().to_owned(),
            ColumnDef::new(Campaigns::RunAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Campaigns::DoneAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(Campaigns::CreatedBy).string().null().to_owned(),
        ] {
            let mut column = column;
            manager.alter_table(Table::alter().table(Campaigns::Table).add_column(&mut column).to_owned()).await?;
        }
        // Campaigns sent before this migration were sent at once.
        manager
            .exec_stmt(
                Query::update()
                    .table(Campaigns::Table)
                    .value(Campaigns::RunAt, Expr::col(Campaigns::SentAt))
                    .value(Campaigns::DoneAt, Expr::col(Campaigns::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommunicationPreferences::Table)
                    .col(pk_uuid(CommunicationPreferences::ClientId))
                    .col(uuid(CommunicationPreferences::PracticeId))
                    .col(boolean(CommunicationPreferences::PostVisitSurveys))
                    .col(boolean(CommunicationPreferences::PostcardReminders))
                    .col(boolean(CommunicationPreferences::Email))
                    .col(boolean(CommunicationPreferences::TwoWayTexts))
                    .col(boolean(CommunicationPreferences::Push))
                    .col(string(CommunicationPreferences::UpdatedBy))
                    .col(timestamp_with_time_zone(CommunicationPreferences::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunicationPreferences::Table, CommunicationPreferences::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notices::Table)
                    .col(pk_uuid(Notices::Id))
                    .col(uuid(Notices::PracticeId))
                    .col(uuid(Notices::ClientId))
                    .col(string(Notices::Subject))
                    .col(uuid(Notices::SubjectId))
                    .col(timestamp_with_time_zone(Notices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notices::Table, Notices::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notices_subject")
                    .table(Notices::Table)
                    .col(Notices::Subject)
                    .col(Notices::SubjectId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Name).primary_key())
                    .col(string(SigningKeys::Secret))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SigningKeys::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Notices::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CommunicationPreferences::Table).to_owned()).await?;
        for column in [Campaigns::Title, Campaigns::Body, Campaigns::RunAt, Campaigns::DoneAt, Campaigns::CreatedBy] {
            manager.alter_table(Table::alter().table(Campaigns::Table).drop_column(column).to_owned()).await?;
        }
        for column in [Deliveries::ClientId, Deliveries::Purpose] {
            manager.alter_table(Table::alter().table(Deliveries::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
