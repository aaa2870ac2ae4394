//! What a plan goes through after enrolment (PLANS.md A7–A11): holds and
//! cancellations kept on the plan, what a release forgave, payments
//! refunded elsewhere, staff notes, the plan each award of plan points was
//! for (so a cancellation can take them back), and an index so a plan's
//! history reads its activity entries without scanning the practice's log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
    HoldReason,
    HeldOn,
    ForgivenCents,
    CancelledAt,
    CancelReason,
}

#[derive(DeriveIden)]
enum PlanPayments {
    Table,
    RefundedCents,
}

#[derive(DeriveIden)]
enum PlanNotes {
    Table,
    Id,
    PracticeId,
    PlanId,
    Body,
    AuthorId,
    Author,
    CreatedAt,
    EditedBy,
    EditedAt,
}

#[derive(DeriveIden)]
enum PlanPointAwards {
    Table,
    PlanId,
}

#[derive(DeriveIden)]
enum ActivityLog {
    Table,
    TargetType,
    TargetId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one column at a time.
        let columns = [
            // financial, expired_card, incomplete_account, missing_documents, deceased_pet or other.
            string_null(Plans::HoldReason),
            // The practice's day the hold began: payments due from it on were missed.
            date_null(Plans::HeldOn),
            // Missed payments a release cancelled: no longer owed.
            big_integer(Plans::ForgivenCents).default(0).to_owned(),
            timestamp_with_time_zone_null(Plans::CancelledAt),
            string_null(Plans::CancelReason),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Plans::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(PlanPayments::Table)
                    .add_column(big_integer(PlanPayments::RefundedCents).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanNotes::Table)
                    .col(pk_uuid(PlanNotes::Id))
                    .col(uuid(PlanNotes::PracticeId))
                    .col(uuid(PlanNotes::PlanId))
                    .col(text(PlanNotes::Body))
                    .col(uuid_null(PlanNotes::AuthorId))
                    .col(string(PlanNotes::Author))
                    .col(timestamp_with_time_zone(PlanNotes::CreatedAt))
                    .col(string_null(PlanNotes::EditedBy))
                    .col(timestamp_with_time_zone_null(PlanNotes::EditedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PlanNotes::Table, PlanNotes::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("plan_notes_plan").table(PlanNotes::Table).col(PlanNotes::PlanId).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(PlanPointAwards::Table).add_column(uuid_null(PlanPointAwards::PlanId)).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_point_awards_plan")
                    .table(PlanPointAwards::Table)
                    .col(PlanPointAwards::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activity_log_target")
                    .table(ActivityLog::Table)
                    .col(ActivityLog::TargetType)
                    .col(ActivityLog::TargetId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("activity_log_target").table(ActivityLog::Table).to_owned()).await?;
        manager
            .drop_index(Index::drop().name("plan_point_awards_plan").table(PlanPointAwards::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(PlanPointAwards::Table).drop_column(PlanPointAwards::PlanId).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(PlanNotes::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(PlanPayments::Table).drop_column(PlanPayments::RefundedCents).to_owned())
            .await?;
        for column in [Plans::HoldReason, Plans::HeldOn, Plans::ForgivenCents, Plans::CancelledAt, Plans::CancelReason]
        {
            manager.alter_table(Table::alter().table(Plans::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
