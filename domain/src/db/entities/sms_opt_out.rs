use sea_orm::entity::prelude::*;

/// A number that asked a practice to stop texting it (STOP), or that the
/// provider says has opted out. Texts to it are skipped until it sends START.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_opt_outs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// E.164.
    pub phone: String,
    /// `keyword` (the owner texted STOP) or `provider` (error 21610).
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
