use sea_orm::entity::prelude::*;

/// A wellness plan: a pet enrolled on one version of a template.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub pet_id: Uuid,
    pub template_id: Uuid,
    /// The template version it was sold on (its items, prices and agreement).
    pub version_id: Uuid,
    pub status: Status,
    pub renewal: Renewal,
    pub billing: Billing,
    pub starts_on: Date,
    /// The term's last day.
    pub ends_on: Date,
    /// The enrolment fee charged (0 when waived).
    pub initial_fee_cents: i64,
    pub fee_waived: bool,
    /// Enrolled without a payment method (a manager's choice).
    pub payment_method_skipped: bool,
    /// The staff member who enrolled it (plan points go to them).
    pub enrolled_by_id: Option<Uuid>,
    pub enrolled_by: String,
    /// The manager whose override allowed a gated option.
    pub approved_by: Option<String>,
    pub created_at: DateTimeUtc,
    /// Why it is on hold, while it is.
    pub hold_reason: Option<HoldReason>,
    /// The practice's day the hold began: payments due from it on were missed.
    pub held_on: Option<Date>,
    /// Missed payments a release cancelled: no longer owed.
    pub forgiven_cents: i64,
    pub cancelled_at: Option<DateTimeUtc>,
    /// The manager's reason for cancelling.
    pub cancel_reason: Option<String>,
    /// The plan this one renews (a plan has one renewal that is not cancelled).
    pub renews_plan_id: Option<Uuid>,
    /// Why this plan's automatic renewal was blocked, if it was.
    pub renewal_blocked: Option<String>,
    /// When the owner was told this renewal is coming (automatic-renewal laws).
    pub renewal_notice_at: Option<DateTimeUtc>,
    /// A second owner named on the agreement, who signs it too.
    pub co_owner: Option<String>,
    /// The card its payments are charged to.
    pub payment_profile_id: Option<Uuid>,
    /// Whether due payments are charged by themselves (an administrator may turn it off).
    pub auto_charge: bool,
}

/// Where a plan stands (PLANS.md A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Status {
    /// Sold, starting on a later day.
    Pending,
    /// Running.
    Active,
    /// Charges stopped by a manager.
    OnHold,
    /// A payment failed and is not yet made good.
    PastDue,
    /// Its term ended.
    Completed,
    /// Cancelled: read-only.
    Cancelled,
}

impl Status {
    /// The statuses of a plan in progress: a pet has at most one.
    pub const IN_PROGRESS: [Status; 4] = [Status::Pending, Status::Active, Status::OnHold, Status::PastDue];
}

/// Why a manager put a plan on hold (PLANS.md A7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum HoldReason {
    /// The owner cannot pay for now.
    Financial,
    /// The card on file has expired.
    ExpiredCard,
    /// The owner's account is not complete.
    IncompleteAccount,
    /// Documents are missing.
    MissingDocuments,
    /// The pet died (the PMS sync holds its plan by itself).
    DeceasedPet,
    /// Another reason, said in the note.
    Other,
}

/// What happens at the end of the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Renewal {
    /// Renews into the template's renews-into plan by itself.
    Auto,
    /// Renewed by staff.
    Manual,
    /// Ends with its term.
    DoNotRenew,
}

/// How a plan is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Billing {
    /// An instalment a month through the term.
    Monthly,
    /// The whole term at enrolment.
    PaidInFull,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
