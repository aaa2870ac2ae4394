//! Staff security: recorded login attempts (lockout and the "failed login
//! attempts in the last two days" column), the consecutive-failure count, and
//! the approver of a manager override on activity entries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    PracticeId,
    StaffUserId,
    Username,
    Ip,
    Succeeded,
    AttemptedAt,
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    ConsecutiveFailures,
}

#[derive(DeriveIden)]
enum ActivityLog {
    Table,
    ApproverId,
    ApproverName,
}

#[derive(DeriveIden)]
enum Practices {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(pk_uuid(LoginAttempts::Id))
                    .col(uuid(LoginAttempts::PracticeId))
                    .col(uuid_null(LoginAttempts::StaffUserId))
                    .col(string(LoginAttempts::Username))
                    .col(string_null(LoginAttempts::Ip))
                    .col(boolean(LoginAttempts::Succeeded))
                    .col(timestamp_with_time_zone(LoginAttempts::AttemptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoginAttempts::Table, LoginAttempts::PracticeId)
                            .to(Practices::Table, Practices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_attempts_user_time")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::StaffUserId)
                    .col(LoginAttempts::AttemptedAt)
                    .to_owned(),
            )
            .await?;
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUsers::Table)
                    .add_column(integer(StaffUsers::ConsecutiveFailures).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(ActivityLog::Table).add_column(uuid_null(ActivityLog::ApproverId)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(ActivityLog::Table).add_column(string_null(ActivityLog::ApproverName)).to_owned(),
            )
            .await?;
        Ok(())
    }
}
