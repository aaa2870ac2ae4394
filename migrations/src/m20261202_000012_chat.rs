//! Realtime chat and the owners' notifications inbox: pictures attached to
//! messages, one-time tickets that open an app socket, and the one-way
//! notifications staff send.

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
enum OwnerAccounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    AttachmentId,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    PracticeId,
    ConversationId,
    StorageKey,
    ContentType,
    SizeBytes,
    Width,
    Height,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SocketTickets {
    Table,
    TicketHash,
    PracticeId,
    AccountId,
    SessionId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    PracticeId,
    ClientId,
    Title,
    Body,
    ImageUrl,
    SentBy,
    ReadAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attachments::Table)
                    .col(pk_uuid(Attachments::Id))
                    .col(uuid(Attachments::PracticeId))
                    .col(uuid(Attachments::ConversationId))
                    .col(string(Attachments::StorageKey))
                    .col(string(Attachments::ContentType))
                    .col(big_integer(Attachments::SizeBytes))
                    .col(integer(Attachments::Width))
                    .col(integer(Attachments::Height))
                    // `owner`, or the staff member's id.
                    .col(string(Attachments::UploadedBy))
                    .col(timestamp_with_time_zone(Attachments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attachments::Table, Attachments::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Messages::Table).add_column(uuid_null(Messages::AttachmentId)).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SocketTickets::Table)
                    .col(string(SocketTickets::TicketHash).primary_key())
                    .col(uuid(SocketTickets::PracticeId))
                    .col(uuid(SocketTickets::AccountId))
                    .col(uuid(SocketTickets::SessionId))
                    .col(timestamp_with_time_zone(SocketTickets::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SocketTickets::Table, SocketTickets::AccountId)
                            .to(OwnerAccounts::Table, OwnerAccounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::PracticeId))
                    .col(uuid(Notifications::ClientId))
                    .col(string(Notifications::Title))
                    .col(text(Notifications::Body))
                    .col(string_null(Notifications::ImageUrl))
                    .col(uuid_null(Notifications::SentBy))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_inbox")
                    .table(Notifications::Table)
                    .col(Notifications::ClientId)
                    .col(Notifications::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Notifications::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(SocketTickets::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Messages::Table).drop_column(Messages::AttachmentId).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(Attachments::Table).to_owned()).await?;
        Ok(())
    }
}
