use sea_orm::entity::prelude::*;

/// A healthcare agreement a plan was issued (PLANS.md A12): the PDF exactly
/// as the owner was shown it, its SHA-256, and the owner's signature once
/// they sign. Never changed after it is written, but for the signature.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plan_agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub plan_id: Uuid,
    /// 1 for the plan's first agreement, then one more for each reissue.
    pub number: i32,
    pub occasion: Occasion,
    /// The name it goes by in the PDF's footer and the API.
    pub reference: String,
    /// Hex SHA-256 of `pdf`.
    pub sha256: String,
    #[sea_orm(column_type = "Blob")]
    pub pdf: Vec<u8>,
    /// Who issued it (the staff member, or `system (renewal job)`).
    pub issued_by: String,
    pub created_at: DateTimeUtc,
    /// The name the owner typed to sign, and the rest of the signing record.
    pub signed_name: Option<String>,
    pub signed_at: Option<DateTimeUtc>,
    /// The network address the signature came from.
    pub signed_address: Option<String>,
    pub signed_user_agent: Option<String>,
    /// The exact words the owner agreed to, which name the PDF's SHA-256.
    pub signed_statement: Option<String>,
}

/// Why an agreement was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Occasion {
    /// The plan was sold.
    Enrolment,
    /// The plan moved to another template.
    Change,
    /// The plan is the renewal of an earlier one.
    Renewal,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
