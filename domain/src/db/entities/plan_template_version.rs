use sea_orm::entity::prelude::*;

/// One version of a template: fixed once written, so a plan sold on it
/// always reads what was sold. Its terms mean what
/// `plans::templates::TemplateDraft` says of them; money is integer cents.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_template_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub template_id: Uuid,
    /// 1, 2, … in the order they were written.
    pub version: i32,
    pub name: String,
    pub species: Option<String>,
    pub min_age_months: i32,
    pub max_age_months: Option<i32>,
    pub term_months: i32,
    pub renews_into_id: Option<Uuid>,
    pub monthly_price_cents: i64,
    pub paid_in_full_price_cents: i64,
    pub initial_fee_cents: i64,
    pub non_plan_discount_percent: Option<i32>,
    pub agreement_text: String,
    /// Who wrote this version.
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
