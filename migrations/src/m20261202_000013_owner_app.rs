//! What owners do in the app besides chat: pets they mark inactive, selfies,
//! loyalty paws (a ledger with one balance per household) and rewards, and
//! orders and appointment requests that staff move through their steps;
//! invoice totals, from which app households earn paws.

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
enum Pets {
    Table,
    OwnerInactiveAt,
    OwnerInactiveReason,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    TotalCents,
}

#[derive(DeriveIden)]
enum Selfies {
    Table,
    Id,
    PracticeId,
    ClientId,
    PetId,
    StorageKey,
    ThumbnailKey,
    Width,
    Height,
    SizeBytes,
    StarredAt,
    HeartedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PawCards {
    Table,
    ClientId,
    PracticeId,
    Balance,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PawEntries {
    Table,
    Id,
    PracticeId,
    ClientId,
    Paws,
    Kind,
    Reason,
    ReversesId,
    RewardRequestId,
    OnceKey,
    StaffId,
    StaffName,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Rewards {
    Table,
    Id,
    PracticeId,
    Name,
    PawsNeeded,
    RetiredAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RewardRequests {
    Table,
    Id,
    PracticeId,
    ClientId,
    RewardId,
    RewardName,
    Paws,
    Status,
    RequestedBy,
    DecidedBy,
    DecidedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OwnerRequests {
    Table,
    Id,
    PracticeId,
    ClientId,
    PetId,
    Kind,
    Details,
    PreferredTimes,
    Status,
    StaffNote,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

fn household_key(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Clients::Table, Clients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn practice_key(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Practices::Table, Practices::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Pets::Table)
                    .add_column(timestamp_with_time_zone_null(Pets::OwnerInactiveAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Pets::Table).add_column(string_null(Pets::OwnerInactiveReason)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Invoices::Table).add_column(big_integer_null(Invoices::TotalCents)).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Selfies::Table)
                    .col(pk_uuid(Selfies::Id))
                    .col(uuid(Selfies::PracticeId))
                    .col(uuid(Selfies::ClientId))
                    .col(uuid_null(Selfies::PetId))
                    .col(string(Selfies::StorageKey))
                    .col(string(Selfies::ThumbnailKey))
                    .col(integer(Selfies::Width))
                    .col(integer(Selfies::Height))
                    .col(big_integer(Selfies::SizeBytes))
                    .col(timestamp_with_time_zone_null(Selfies::StarredAt))
                    .col(timestamp_with_time_zone_null(Selfies::HeartedAt))
                    .col(timestamp_with_time_zone(Selfies::CreatedAt))
                    .foreign_key(&mut household_key(Selfies::Table, Selfies::ClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("selfies_household")
                    .table(Selfies::Table)
                    .col(Selfies::ClientId)
                    .col(Selfies::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PawCards::Table)
                    .col(pk_uuid(PawCards::ClientId))
                    .col(uuid(PawCards::PracticeId))
                    .col(integer(PawCards::Balance))
                    .col(timestamp_with_time_zone(PawCards::UpdatedAt))
                    .foreign_key(&mut household_key(PawCards::Table, PawCards::ClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PawEntries::Table)
                    .col(pk_uuid(PawEntries::Id))
                    .col(uuid(PawEntries::PracticeId))
                    .col(uuid(PawEntries::ClientId))
                    // Signed: earned and refunded paws add, redeemed and reversed ones take away.
                    .col(integer(PawEntries::Paws))
                    .col(string(PawEntries::Kind))
                    .col(string(PawEntries::Reason))
                    .col(uuid_null(PawEntries::ReversesId))
                    .col(uuid_null(PawEntries::RewardRequestId))
                    // What may happen once per household (the download-the-app paw, one Oops per paw).
                    .col(string_null(PawEntries::OnceKey))
                    .col(uuid_null(PawEntries::StaffId))
                    .col(string_null(PawEntries::StaffName))
                    .col(timestamp_with_time_zone(PawEntries::CreatedAt))
                    .foreign_key(&mut household_key(PawEntries::Table, PawEntries::ClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paw_entries_household")
                    .table(PawEntries::Table)
                    .col(PawEntries::ClientId)
                    .col(PawEntries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paw_entries_once")
                    .table(PawEntries::Table)
                    .col(PawEntries::ClientId)
                    .col(PawEntries::OnceKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Rewards::Table)
                    .col(pk_uuid(Rewards::Id))
                    .col(uuid(Rewards::PracticeId))
                    .col(string(Rewards::Name))
                    .col(integer(Rewards::PawsNeeded))
                    .col(timestamp_with_time_zone_null(Rewards::RetiredAt))
                    .col(timestamp_with_time_zone(Rewards::CreatedAt))
                    .foreign_key(&mut practice_key(Rewards::Table, Rewards::PracticeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RewardRequests::Table)
                    .col(pk_uuid(RewardRequests::Id))
                    .col(uuid(RewardRequests::PracticeId))
                    .col(uuid(RewardRequests::ClientId))
                    .col(uuid_null(RewardRequests::RewardId))
                    .col(string(RewardRequests::RewardName))
                    .col(integer(RewardRequests::Paws))
                    // pending, approved or declined.
                    .col(string(RewardRequests::Status))
                    // `owner` (from the app), or the staff member's name (Manually Reward).
                    .col(string(RewardRequests::RequestedBy))
                    .col(string_null(RewardRequests::DecidedBy))
                    .col(timestamp_with_time_zone_null(RewardRequests::DecidedAt))
                    .col(timestamp_with_time_zone(RewardRequests::CreatedAt))
                    .foreign_key(&mut household_key(RewardRequests::Table, RewardRequests::ClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("reward_requests_household")
                    .table(RewardRequests::Table)
                    .col(RewardRequests::ClientId)
                    .col(RewardRequests::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OwnerRequests::Table)
                    .col(pk_uuid(OwnerRequests::Id))
                    .col(uuid(OwnerRequests::PracticeId))
                    .col(uuid(OwnerRequests::ClientId))
                    .col(uuid_null(OwnerRequests::PetId))
                    // order or appointment.
                    .col(string(OwnerRequests::Kind))
                    .col(text(OwnerRequests::Details))
                    .col(json_null(OwnerRequests::PreferredTimes))
                    .col(string(OwnerRequests::Status))
                    .col(text_null(OwnerRequests::StaffNote))
                    .col(string_null(OwnerRequests::UpdatedBy))
                    .col(timestamp_with_time_zone(OwnerRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OwnerRequests::UpdatedAt))
                    .foreign_key(&mut household_key(OwnerRequests::Table, OwnerRequests::ClientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("owner_requests_household")
                    .table(OwnerRequests::Table)
                    .col(OwnerRequests::ClientId)
                    .col(OwnerRequests::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OwnerRequests::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RewardRequests::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Rewards::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(PawEntries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(PawCards::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Selfies::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Invoices::Table).drop_column(Invoices::TotalCents).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Pets::Table).drop_column(Pets::OwnerInactiveReason).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Pets::Table).drop_column(Pets::OwnerInactiveAt).to_owned()).await?;
        Ok(())
    }
}
