//! What the provider reports of texts sent.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    DomainResult, Platform,
    db::entities::delivery,
    deliveries::outbox::{self, Channel},
};

use super::opt_outs::{OPTED_OUT_ERROR, record_opt_out};

/// A provider's report on a text it was given.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The provider's message id.
    pub sid: String,
    /// `queued`, `sent`, `delivered`, `undelivered`, `failed`, …
    pub status: String,
    /// The provider's error code, if any.
    pub error_code: Option<String>,
}

/// Records what the provider says became of a text: undelivered or failed
/// texts are marked failed, and error 21610 opts the number out. Returns
/// false when no delivery has that id. Repeats change nothing.
pub async fn report(platform: &Platform, report: StatusReport) -> DomainResult<bool> {
    let Some(row) = delivery::Entity::find()
        .filter(delivery::Column::Channel.eq(Channel::Sms.as_str()))
        .filter(delivery::Column::ProviderId.eq(report.sid.as_str()))
        .one(&platform.db)
        .await?
    else {
        return Ok(false);
    };
    let txn = platform.begin_write().await?;
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::ProviderStatus, Expr::value(report.status.clone()))
        .filter(delivery::Column::Id.eq(row.id));
    if matches!(report.status.as_str(), "undelivered" | "failed") {
        let error =
            format!("provider reports {}: error {}", report.status, report.error_code.as_deref().unwrap_or("none"));
        update = update
            .col_expr(delivery::Column::Status, Expr::value(outbox::DeliveryStatus::Failed))
            .col_expr(delivery::Column::LastError, Expr::value(error));
    }
    update.exec(&txn).await?;
    if report.error_code.as_deref() == Some(OPTED_OUT_ERROR) {
        record_opt_out(&txn, platform, row.practice_id, &row.recipient, "provider").await?;
    }
    txn.commit().await?;
    Ok(true)
}
