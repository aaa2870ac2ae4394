//! The platform: practices (tenants), staff users, sessions, the activity log
//! and the delivery outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
    Slug,
    Name,
    TimeZone,
    Settings,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
    PracticeId,
    Username,
    DisplayName,
    Email,
    Level,
    PasswordHash,
    PasswordChangedAt,
    LastLoginAt,
    LockedAt,
    DeletedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenHash,
    PracticeId,
    StaffUserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    RevokedAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum ActivityLog {
    Table,
    Id,
    PracticeId,
    OccurredAt,
    ActorId,
    ActorName,
    Action,
    TargetType,
    TargetId,
    Detail,
    RequestId,
    Ip,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    PracticeId,
    Channel,
    Recipient,
    Subject,
    Body,
    Data,
    Reason,
    Status,
    Attempts,
    NextAttemptAt,
    Provider,
    ProviderId,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Practices::Table)
                    .col(pk_uuid(Practices::Id))
                    .col(string_uniq(Practices::Slug))
                    .col(string(Practices::Name))
                    .col(string(Practices::TimeZone))
                    .col(json(Practices::Settings))
                    .col(timestamp_with_time_zone(Practices::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffUsers::Table)
                    .col(pk_uuid(StaffUsers::Id))
                    .col(uuid(StaffUsers::PracticeId))
                    .col(string(StaffUsers::Username))
                    .col(string(StaffUsers::DisplayName))
                    .col(string_null(StaffUsers::Email))
                    .col(string(StaffUsers::Level))
                    .col(string(StaffUsers::PasswordHash))
                    .col(timestamp_with_time_zone(StaffUsers::PasswordChangedAt))
                    .col(timestamp_with_time_zone_null(StaffUsers::LastLoginAt))
                    .col(timestamp_with_time_zone_null(StaffUsers::LockedAt))
                    .col(timestamp_with_time_zone_null(StaffUsers::DeletedAt))
                    .col(timestamp_with_time_zone(StaffUsers::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffUsers::Table, StaffUsers::PracticeId)
                            .to(Practices::Table, Practices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_users_practice_username")
                    .table(StaffUsers::Table)
                    .col(StaffUsers::PracticeId)
                    .col(StaffUsers::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(string_uniq(Sessions::TokenHash))
                    .col(uuid(Sessions::PracticeId))
                    .col(uuid(Sessions::StaffUserId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_null(Sessions::Ip))
                    .col(string_null(Sessions::UserAgent))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::StaffUserId)
                            .to(StaffUsers::Table, StaffUsers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_staff_user")
                    .table(Sessions::Table)
                    .col(Sessions::StaffUserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityLog::Table)
                    .col(pk_uuid(ActivityLog::Id))
                    .col(uuid(ActivityLog::PracticeId))
                    .col(timestamp_with_time_zone(ActivityLog::OccurredAt))
                    .col(uuid_null(ActivityLog::ActorId))
                    .col(string(ActivityLog::ActorName))
                    .col(string(ActivityLog::Action))
                    .col(string_null(ActivityLog::TargetType))
                    .col(string_null(ActivityLog::TargetId))
                    .col(json_null(ActivityLog::Detail))
                    .col(string_null(ActivityLog::RequestId))
                    .col(string_null(ActivityLog::Ip))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivityLog::Table, ActivityLog::PracticeId)
                            .to(Practices::Table, Practices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activity_log_practice_time")
                    .table(ActivityLog::Table)
                    .col(ActivityLog::PracticeId)
                    .col(ActivityLog::OccurredAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(pk_uuid(Deliveries::Id))
                    .col(uuid(Deliveries::PracticeId))
                    .col(string(Deliveries::Channel))
                    .col(string(Deliveries::Recipient))
                    .col(string_null(Deliveries::Subject))
                    .col(text(Deliveries::Body))
                    .col(json(Deliveries::Data))
                    .col(string(Deliveries::Reason))
                    .col(string(Deliveries::Status))
                    .col(integer(Deliveries::Attempts))
                    .col(timestamp_with_time_zone(Deliveries::NextAttemptAt))
                    .col(string_null(Deliveries::Provider))
                    .col(string_null(Deliveries::ProviderId))
                    .col(text_null(Deliveries::LastError))
                    .col(timestamp_with_time_zone(Deliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(Deliveries::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Deliveries::Table, Deliveries::PracticeId)
                            .to(Practices::Table, Practices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_due")
                    .table(Deliveries::Table)
                    .col(Deliveries::Status)
                    .col(Deliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_practice_created")
                    .table(Deliveries::Table)
                    .col(Deliveries::PracticeId)
                    .col(Deliveries::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
