use sea_orm::entity::prelude::*;

/// A card a client saved with the payment gateway (PLANS.md B4): the
/// gateway's ids and what the card's owner reads on it, never its number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    /// The gateway's customer (`cus_…`).
    pub customer_ref: String,
    /// The gateway's saved card (`pm_…`).
    pub method_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    /// Who saved it: a staff member's name, or "the owner".
    pub added_by: String,
    pub created_at: DateTimeUtc,
    /// When it was deleted: kept, so past attempts still name their card.
    pub removed_at: Option<DateTimeUtc>,
}

impl Model {
    /// Whether the card has expired by `today` (it works through its expiry month).
    pub fn expired(&self, today: Date) -> bool {
        use chrono::Datelike;
        let (year, month) = (today.year(), i32::try_from(today.month()).unwrap_or(12));
        (self.exp_year, self.exp_month) < (year, month)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
