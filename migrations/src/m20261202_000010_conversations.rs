//! Conversations between a household and its practice, and their messages,
//! numbered per conversation (seq) so a client can say what it last saw.

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
enum Conversations {
    Table,
    Id,
    PracticeId,
    ClientId,
    Status,
    AssignedTo,
    LastSeq,
    OwnerReadSeq,
    StaffReadSeq,
    LastMessageAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    PracticeId,
    Seq,
    Author,
    AuthorStaffId,
    Channel,
    ClientMessageId,
    Body,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(pk_uuid(Conversations::Id))
                    .col(uuid(Conversations::PracticeId))
                    .col(uuid_uniq(Conversations::ClientId))
                    .col(string(Conversations::Status))
                    .col(uuid_null(Conversations::AssignedTo))
                    .col(big_integer(Conversations::LastSeq))
                    .col(big_integer(Conversations::OwnerReadSeq))
                    .col(big_integer(Conversations::StaffReadSeq))
                    .col(timestamp_with_time_zone_null(Conversations::LastMessageAt))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversations::Table, Conversations::PracticeId)
                            .to(Practices::Table, Practices::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversations::Table, Conversations::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("conversations_inbox")
                    .table(Conversations::Table)
                    .col(Conversations::PracticeId)
                    .col(Conversations::LastMessageAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::ConversationId))
                    .col(uuid(Messages::PracticeId))
                    .col(big_integer(Messages::Seq))
                    .col(string(Messages::Author))
                    .col(uuid_null(Messages::AuthorStaffId))
                    .col(string(Messages::Channel))
                    .col(string_null(Messages::ClientMessageId))
                    .col(text(Messages::Body))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("messages_seq")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("messages_client_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ClientMessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Messages::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Conversations::Table).to_owned()).await?;
        Ok(())
    }
}
