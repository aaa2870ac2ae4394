//! The opt-out list every sender of texts honours.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{DomainResult, Platform, db::entities::sms_opt_out};

/// The provider's error for a number that opted out with it.
pub const OPTED_OUT_ERROR: &str = "21610";

/// Whether `phone` asked the practice to stop texting it.
pub async fn is_opted_out(platform: &Platform, practice_id: Uuid, phone: &str) -> DomainResult<bool> {
    Ok(sms_opt_out::Entity::find()
        .filter(sms_opt_out::Column::PracticeId.eq(practice_id))
        .filter(sms_opt_out::Column::Phone.eq(phone))
        .count(&platform.db)
        .await?
        > 0)
}

/// Stops every text to `phone` from the practice, at once; `source` says who
/// said so (`keyword` or `provider`). Saying it twice changes nothing.
pub async fn opt_out(platform: &Platform, practice_id: Uuid, phone: &str, source: &str) -> DomainResult<()> {
    record_opt_out(&platform.db, platform, practice_id, phone, source).await
}

/// [`opt_out`] on `conn`: within a service's transaction.
pub(crate) async fn record_opt_out(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice_id: Uuid,
    phone: &str,
    source: &str,
) -> DomainResult<()> {
    let row = sms_opt_out::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(practice_id),
        phone: Set(phone.to_owned()),
        source: Set(source.to_owned()),
        created_at: Set(platform.clock.now()),
    };
    sms_opt_out::Entity::insert(row)
        .on_conflict_do_nothing_on([sms_opt_out::Column::PracticeId, sms_opt_out::Column::Phone])
        .exec(conn)
        .await?;
    Ok(())
}

/// Texts to `phone` may go out again.
pub async fn opt_in(conn: &impl ConnectionTrait, practice_id: Uuid, phone: &str) -> DomainResult<()> {
    sms_opt_out::Entity::delete_many()
        .filter(sms_opt_out::Column::PracticeId.eq(practice_id))
        .filter(sms_opt_out::Column::Phone.eq(phone))
        .exec(conn)
        .await?;
    Ok(())
}
