//! A plan's items with what is left of them, as both APIs show them.

use petbridge_domain::db::entities::plan_template_item;
use poem_openapi::Object;
use uuid::Uuid;

/// An item of a plan with what is left of it this term.
#[derive(Debug, Object)]
pub struct PlanItemBalance {
    /// The item (of the version the plan was sold on).
    pub item_id: Uuid,
    /// What it is.
    pub description: String,
    /// Its WP code.
    pub code: String,
    /// Allowed this term; absent for unlimited.
    pub allowed: Option<i32>,
    /// Used this term.
    pub used: i32,
    /// Left this term; absent for unlimited.
    pub remaining: Option<i32>,
    /// Chosen as an add-on at enrolment.
    pub add_on: bool,
}

impl PlanItemBalance {
    /// The balance of each item of a plan. Usage comes with the item-usage
    /// ledger; until it posts, nothing is used.
    pub fn all(items: Vec<plan_template_item::Model>) -> Vec<Self> {
        items
            .into_iter()
            .map(|i| Self {
                item_id: i.id,
                description: i.description,
                code: i.code,
                allowed: i.quantity,
                used: 0,
                remaining: i.quantity,
                add_on: i.add_on_monthly_cents.is_some(),
            })
            .collect()
    }
}
