use sea_orm::entity::prelude::*;

/// An item of a template version: what the plan covers, how many per term.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_template_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version_id: Uuid,
    /// Its place in the version's list, from 0.
    pub position: i32,
    pub description: String,
    /// The primary WP code the PMS bills it under.
    pub code: String,
    /// Other WP codes that count as this item, space-separated.
    pub alternate_codes: String,
    /// Allowed per term; none for unlimited.
    pub quantity: Option<i32>,
    pub retail_price_cents: i64,
    /// Set for an optional add-on: what it adds to the plan's price a month.
    pub add_on_monthly_cents: Option<i64>,
}

impl Model {
    /// The alternate codes, one by one.
    pub fn alternates(&self) -> impl Iterator<Item = &str> {
        self.alternate_codes.split_whitespace()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
