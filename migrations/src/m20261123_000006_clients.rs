//! Clients and their pets as the PMS sync delivers them (with appointments,
//! health-service reminders and invoices), the owner accounts of the app with
//! their sessions, email tokens and push devices, the sync agent's API keys
//! and batch records, and once-a-month campaigns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SyncKeys {
    Table,
    Id,
    PracticeId,
    Name,
    KeyHash,
    KeyPrefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SyncBatches {
    Table,
    Id,
    PracticeId,
    KeyId,
    Source,
    ReceivedAt,
    Counts,
    Errors,
    ErrorCount,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    PracticeId,
    PmsId,
    PmsUpdatedAt,
    FirstName,
    LastName,
    Email,
    Phone,
    PmsActive,
    LastTransactionOn,
    InvitedAt,
    PersonalNote,
    SortName,
    AccountStatus,
    AccountCreatedAt,
    PetSyncStatus,
    EarliestDueOn,
    LastActivityOn,
    SearchText,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Pets {
    Table,
    Id,
    PracticeId,
    ClientId,
    PmsId,
    PmsUpdatedAt,
    Name,
    Species,
    Breed,
    Sex,
    DateOfBirth,
    PmsStatus,
    StatusChangedAt,
    RemovedAt,
    ReinstatedAt,
    AddedByOwner,
    OwnerNotes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Appointments {
    Table,
    Id,
    PracticeId,
    PmsId,
    PmsUpdatedAt,
    ClientPmsId,
    PetPmsId,
    StartsAt,
    Reason,
    Status,
}

#[derive(DeriveIden)]
enum Reminders {
    Table,
    Id,
    PracticeId,
    PmsId,
    PmsUpdatedAt,
    ClientPmsId,
    PetPmsId,
    Service,
    DueOn,
    Status,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    PracticeId,
    PmsId,
    PmsUpdatedAt,
    ClientPmsId,
    InvoicedOn,
    Voided,
}

#[derive(DeriveIden)]
enum InvoiceLines {
    Table,
    Id,
    InvoiceId,
    LineNo,
    Code,
    Description,
    Quantity,
    PetPmsId,
    Provider,
    PerformedOn,
    Voided,
}

#[derive(DeriveIden)]
enum OwnerAccounts {
    Table,
    Id,
    PracticeId,
    ClientId,
    Email,
    PasswordHash,
    EmailVerifiedAt,
    DisabledAt,
    LastLoginAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OwnerEmailTokens {
    Table,
    Id,
    AccountId,
    Purpose,
    Email,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OwnerSessions {
    Table,
    Id,
    PracticeId,
    AccountId,
    AccessHash,
    AccessExpiresAt,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum OwnerRefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OwnerDevices {
    Table,
    Id,
    AccountId,
    SessionId,
    Token,
    Platform,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    PracticeId,
    Kind,
    Period,
    SentAt,
    Recipients,
}

fn belongs_to(
    from: impl IntoIden,
    column: impl IntoIden,
    to: impl IntoIden,
    key: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from)
        .from_col(column)
        .to_tbl(to)
        .to_col(key)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncKeys::Table)
                    .col(pk_uuid(SyncKeys::Id))
                    .col(uuid(SyncKeys::PracticeId))
                    .col(string(SyncKeys::Name))
                    .col(string_uniq(SyncKeys::KeyHash))
                    .col(string(SyncKeys::KeyPrefix))
                    .col(timestamp_with_time_zone(SyncKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(SyncKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(SyncKeys::RevokedAt))
                    .foreign_key(&mut belongs_to(
                        SyncKeys::Table,
                        SyncKeys::PracticeId,
                        Practices::Table,
                        Practices::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncBatches::Table)
                    .col(pk_uuid(SyncBatches::Id))
                    .col(uuid(SyncBatches::PracticeId))
                    .col(uuid_null(SyncBatches::KeyId))
                    .col(string(SyncBatches::Source))
                    .col(timestamp_with_time_zone(SyncBatches::ReceivedAt))
                    .col(json(SyncBatches::Counts))
                    .col(json(SyncBatches::Errors))
                    .col(integer(SyncBatches::ErrorCount))
                    .foreign_key(&mut belongs_to(
                        SyncBatches::Table,
                        SyncBatches::PracticeId,
                        Practices::Table,
                        Practices::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "sync_batches_practice_time",
            SyncBatches::Table,
            vec![SyncBatches::PracticeId.into_iden(), SyncBatches::ReceivedAt.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(pk_uuid(Clients::Id))
                    .col(uuid(Clients::PracticeId))
                    .col(string_null(Clients::PmsId))
                    .col(timestamp_with_time_zone_null(Clients::PmsUpdatedAt))
                    .col(string(Clients::FirstName))
                    .col(string(Clients::LastName))
                    .col(string_null(Clients::Email))
                    .col(string_null(Clients::Phone))
                    .col(boolean(Clients::PmsActive).default(true))
                    .col(date_null(Clients::LastTransactionOn))
                    .col(timestamp_with_time_zone_null(Clients::InvitedAt))
                    .col(text_null(Clients::PersonalNote))
                    .col(string(Clients::SortName))
                    .col(string(Clients::AccountStatus))
                    .col(timestamp_with_time_zone_null(Clients::AccountCreatedAt))
                    .col(string(Clients::PetSyncStatus))
                    .col(date_null(Clients::EarliestDueOn))
                    .col(date_null(Clients::LastActivityOn))
                    .col(text(Clients::SearchText))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .foreign_key(&mut belongs_to(Clients::Table, Clients::PracticeId, Practices::Table, Practices::Id))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "clients_pms_id",
            Clients::Table,
            vec![Clients::PracticeId.into_iden(), Clients::PmsId.into_iden()],
            true,
        )
        .await?;
        // Search scans this narrow index instead of the rows.
        index(
            manager,
            "clients_search",
            Clients::Table,
            vec![Clients::PracticeId.into_iden(), Clients::SearchText.into_iden(), Clients::Id.into_iden()],
            false,
        )
        .await?;
        // One index per sortable Users-list column, so the first page of a
        // large practice reads a few rows instead of sorting all of them.
        for (name, column) in [
            ("clients_sort_name", Clients::SortName.into_iden()),
            ("clients_sort_email", Clients::Email.into_iden()),
            ("clients_sort_status", Clients::AccountStatus.into_iden()),
            ("clients_sort_created", Clients::AccountCreatedAt.into_iden()),
            ("clients_sort_pet_sync", Clients::PetSyncStatus.into_iden()),
            ("clients_sort_past_due", Clients::EarliestDueOn.into_iden()),
        ] {
            index(
                manager,
                name,
                Clients::Table,
                vec![Clients::PracticeId.into_iden(), column, Clients::Id.into_iden()],
                false,
            )
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Pets::Table)
                    .col(pk_uuid(Pets::Id))
                    .col(uuid(Pets::PracticeId))
                    .col(uuid(Pets::ClientId))
                    .col(string_null(Pets::PmsId))
                    .col(timestamp_with_time_zone_null(Pets::PmsUpdatedAt))
                    .col(string(Pets::Name))
                    .col(string_null(Pets::Species))
                    .col(string_null(Pets::Breed))
                    .col(string_null(Pets::Sex))
                    .col(date_null(Pets::DateOfBirth))
                    .col(string(Pets::PmsStatus))
                    .col(timestamp_with_time_zone_null(Pets::StatusChangedAt))
                    .col(timestamp_with_time_zone_null(Pets::RemovedAt))
                    .col(timestamp_with_time_zone_null(Pets::ReinstatedAt))
                    .col(boolean(Pets::AddedByOwner))
                    .col(text_null(Pets::OwnerNotes))
                    .col(timestamp_with_time_zone(Pets::CreatedAt))
                    .col(timestamp_with_time_zone(Pets::UpdatedAt))
                    .foreign_key(&mut belongs_to(Pets::Table, Pets::ClientId, Clients::Table, Clients::Id))
                    .to_owned(),
            )
            .await?;
        index(manager, "pets_pms_id", Pets::Table, vec![Pets::PracticeId.into_iden(), Pets::PmsId.into_iden()], true)
            .await?;
        index(manager, "pets_client", Pets::Table, vec![Pets::ClientId.into_iden()], false).await?;

        manager
            .create_table(
                Table::create()
                    .table(Appointments::Table)
                    .col(pk_uuid(Appointments::Id))
                    .col(uuid(Appointments::PracticeId))
                    .col(string(Appointments::PmsId))
                    .col(timestamp_with_time_zone(Appointments::PmsUpdatedAt))
                    .col(string(Appointments::ClientPmsId))
                    .col(string_null(Appointments::PetPmsId))
                    .col(timestamp_with_time_zone(Appointments::StartsAt))
                    .col(string_null(Appointments::Reason))
                    .col(string(Appointments::Status))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "appointments_pms_id",
            Appointments::Table,
            vec![Appointments::PracticeId.into_iden(), Appointments::PmsId.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "appointments_client",
            Appointments::Table,
            vec![Appointments::PracticeId.into_iden(), Appointments::ClientPmsId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reminders::Table)
                    .col(pk_uuid(Reminders::Id))
                    .col(uuid(Reminders::PracticeId))
                    .col(string(Reminders::PmsId))
                    .col(timestamp_with_time_zone(Reminders::PmsUpdatedAt))
                    .col(string(Reminders::ClientPmsId))
                    .col(string(Reminders::PetPmsId))
                    .col(string(Reminders::Service))
                    .col(date(Reminders::DueOn))
                    .col(string(Reminders::Status))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "reminders_pms_id",
            Reminders::Table,
            vec![Reminders::PracticeId.into_iden(), Reminders::PmsId.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "reminders_client",
            Reminders::Table,
            vec![Reminders::PracticeId.into_iden(), Reminders::ClientPmsId.into_iden()],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .col(pk_uuid(Invoices::Id))
                    .col(uuid(Invoices::PracticeId))
                    .col(string(Invoices::PmsId))
                    .col(timestamp_with_time_zone(Invoices::PmsUpdatedAt))
                    .col(string(Invoices::ClientPmsId))
                    .col(date(Invoices::InvoicedOn))
                    .col(boolean(Invoices::Voided))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "invoices_pms_id",
            Invoices::Table,
            vec![Invoices::PracticeId.into_iden(), Invoices::PmsId.into_iden()],
            true,
        )
        .await?;
        index(
            manager,
            "invoices_client",
            Invoices::Table,
            vec![Invoices::PracticeId.into_iden(), Invoices::ClientPmsId.into_iden()],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(InvoiceLines::Table)
                    .col(pk_uuid(InvoiceLines::Id))
                    .col(uuid(InvoiceLines::InvoiceId))
                    .col(integer(InvoiceLines::LineNo))
                    .col(string(InvoiceLines::Code))
                    .col(string_null(InvoiceLines::Description))
                    .col(double(InvoiceLines::Quantity))
                    .col(string_null(InvoiceLines::PetPmsId))
                    .col(string_null(InvoiceLines::Provider))
                    .col(date(InvoiceLines::PerformedOn))
                    .col(boolean(InvoiceLines::Voided))
                    .foreign_key(&mut belongs_to(
                        InvoiceLines::Table,
                        InvoiceLines::InvoiceId,
                        Invoices::Table,
                        Invoices::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "invoice_lines_number",
            InvoiceLines::Table,
            vec![InvoiceLines::InvoiceId.into_iden(), InvoiceLines::LineNo.into_iden()],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(OwnerAccounts::Table)
                    .col(pk_uuid(OwnerAccounts::Id))
                    .col(uuid(OwnerAccounts::PracticeId))
                    .col(uuid_uniq(OwnerAccounts::ClientId))
                    .col(string(OwnerAccounts::Email))
                    .col(string(OwnerAccounts::PasswordHash))
                    .col(timestamp_with_time_zone_null(OwnerAccounts::EmailVerifiedAt))
                    .col(timestamp_with_time_zone_null(OwnerAccounts::DisabledAt))
                    .col(timestamp_with_time_zone_null(OwnerAccounts::LastLoginAt))
                    .col(timestamp_with_time_zone(OwnerAccounts::CreatedAt))
                    .foreign_key(&mut belongs_to(
                        OwnerAccounts::Table,
                        OwnerAccounts::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "owner_accounts_email",
            OwnerAccounts::Table,
            vec![OwnerAccounts::PracticeId.into_iden(), OwnerAccounts::Email.into_iden()],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(OwnerEmailTokens::Table)
                    .col(pk_uuid(OwnerEmailTokens::Id))
                    .col(uuid(OwnerEmailTokens::AccountId))
                    .col(string(OwnerEmailTokens::Purpose))
                    .col(string(OwnerEmailTokens::Email))
                    .col(string_uniq(OwnerEmailTokens::TokenHash))
                    .col(timestamp_with_time_zone(OwnerEmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OwnerEmailTokens::UsedAt))
                    .col(timestamp_with_time_zone(OwnerEmailTokens::CreatedAt))
                    .foreign_key(&mut belongs_to(
                        OwnerEmailTokens::Table,
                        OwnerEmailTokens::AccountId,
                        OwnerAccounts::Table,
                        OwnerAccounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OwnerSessions::Table)
                    .col(pk_uuid(OwnerSessions::Id))
                    .col(uuid(OwnerSessions::PracticeId))
                    .col(uuid(OwnerSessions::AccountId))
                    .col(string_uniq(OwnerSessions::AccessHash))
                    .col(timestamp_with_time_zone(OwnerSessions::AccessExpiresAt))
                    .col(timestamp_with_time_zone(OwnerSessions::CreatedAt))
                    .col(timestamp_with_time_zone_null(OwnerSessions::RevokedAt))
                    .foreign_key(&mut belongs_to(
                        OwnerSessions::Table,
                        OwnerSessions::AccountId,
                        OwnerAccounts::Table,
                        OwnerAccounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OwnerRefreshTokens::Table)
                    .col(pk_uuid(OwnerRefreshTokens::Id))
                    .col(uuid(OwnerRefreshTokens::SessionId))
                    .col(string_uniq(OwnerRefreshTokens::TokenHash))
                    .col(timestamp_with_time_zone(OwnerRefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OwnerRefreshTokens::UsedAt))
                    .col(timestamp_with_time_zone(OwnerRefreshTokens::CreatedAt))
                    .foreign_key(&mut belongs_to(
                        OwnerRefreshTokens::Table,
                        OwnerRefreshTokens::SessionId,
                        OwnerSessions::Table,
                        OwnerSessions::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OwnerDevices::Table)
                    .col(pk_uuid(OwnerDevices::Id))
                    .col(uuid(OwnerDevices::AccountId))
                    .col(uuid_null(OwnerDevices::SessionId))
                    .col(string_uniq(OwnerDevices::Token))
                    .col(string(OwnerDevices::Platform))
                    .col(timestamp_with_time_zone(OwnerDevices::CreatedAt))
                    .foreign_key(&mut belongs_to(
                        OwnerDevices::Table,
                        OwnerDevices::AccountId,
                        OwnerAccounts::Table,
                        OwnerAccounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(pk_uuid(Campaigns::Id))
                    .col(uuid(Campaigns::PracticeId))
                    .col(string(Campaigns::Kind))
                    .col(string(Campaigns::Period))
                    .col(timestamp_with_time_zone(Campaigns::SentAt))
                    .col(integer(Campaigns::Recipients))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "campaigns_once_per_period",
            Campaigns::Table,
            vec![Campaigns::PracticeId.into_iden(), Campaigns::Kind.into_iden(), Campaigns::Period.into_iden()],
            true,
        )
        .await?;
        Ok(())
    }
}
