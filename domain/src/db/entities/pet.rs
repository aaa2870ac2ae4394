use sea_orm::entity::prelude::*;

/// A pet of a household: from the PMS or added by the owner in the app.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub pms_id: Option<String>,
    pub pms_updated_at: Option<DateTimeUtc>,
    pub name: String,
    pub species: Option<String>,
    pub breed: Option<String>,
    pub sex: Option<String>,
    pub date_of_birth: Option<Date>,
    /// `active`, `inactive` or `deceased`, as the PMS says.
    pub pms_status: PmsStatus,
    /// When `pms_status` last changed away from `active`.
    pub status_changed_at: Option<DateTimeUtc>,
    /// Staff removed it from the app.
    pub removed_at: Option<DateTimeUtc>,
    /// Staff brought it back; outranks status changes before this time.
    pub reinstated_at: Option<DateTimeUtc>,
    pub added_by_owner: bool,
    pub owner_notes: Option<String>,
    /// The owner marked it inactive in the app (it passed away, ran away…).
    pub owner_inactive_at: Option<DateTimeUtc>,
    /// What the owner said when marking it inactive.
    pub owner_inactive_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where the PMS says the pet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum PmsStatus {
    /// A patient of the practice.
    Active,
    /// No longer seen (moved away, another practice).
    Inactive,
    /// Passed away.
    Deceased,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
