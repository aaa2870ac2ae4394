//! Staff performance: plan points awarded (by enrolments, later) and the
//! goals administrators set per user and period.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanPointAwards {
    Table,
    Id,
    PracticeId,
    StaffUserId,
    Points,
    Reason,
    AwardedAt,
}

#[derive(DeriveIden)]
enum PerformanceGoals {
    Table,
    Id,
    PracticeId,
    StaffUserId,
    Period,
    Points,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffUsers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanPointAwards::Table)
                    .col(pk_uuid(PlanPointAwards::Id))
                    .col(uuid(PlanPointAwards::PracticeId))
                    .col(uuid(PlanPointAwards::StaffUserId))
                    .col(integer(PlanPointAwards::Points))
                    .col(string(PlanPointAwards::Reason))
                    .col(timestamp_with_time_zone(PlanPointAwards::AwardedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanPointAwards::Table, PlanPointAwards::StaffUserId)
                            .to(StaffUsers::Table, StaffUsers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_point_awards_practice_time")
                    .table(PlanPointAwards::Table)
                    .col(PlanPointAwards::PracticeId)
                    .col(PlanPointAwards::AwardedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PerformanceGoals::Table)
                    .col(pk_uuid(PerformanceGoals::Id))
                    .col(uuid(PerformanceGoals::PracticeId))
                    .col(uuid(PerformanceGoals::StaffUserId))
                    .col(string(PerformanceGoals::Period))
                    .col(integer(PerformanceGoals::Points))
                    .col(timestamp_with_time_zone(PerformanceGoals::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PerformanceGoals::Table, PerformanceGoals::StaffUserId)
                            .to(StaffUsers::Table, StaffUsers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("performance_goals_user_period")
                    .table(PerformanceGoals::Table)
                    .col(PerformanceGoals::StaffUserId)
                    .col(PerformanceGoals::Period)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
