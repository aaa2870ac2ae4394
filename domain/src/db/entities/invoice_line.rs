use sea_orm::entity::prelude::*;

/// One line of an invoice: an item code, its quantity, for which pet, by whom.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub line_no: i32,
    pub code: String,
    pub description: Option<String>,
    pub quantity: f64,
    pub pet_pms_id: Option<String>,
    pub provider: Option<String>,
    pub performed_on: Date,
    pub voided: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
