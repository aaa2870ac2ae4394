use sea_orm::entity::prelude::*;

/// An order (a food or medication refill) or an appointment request made in
/// the app, moved through its steps by staff.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "owner_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    pub client_id: Uuid,
    pub pet_id: Option<Uuid>,
    pub kind: Kind,
    /// What is ordered, or the reason for the visit.
    pub details: String,
    /// Appointment requests: the times the owner prefers, as they wrote them.
    pub preferred_times: Option<Json>,
    pub status: Status,
    /// What staff told the owner with the last change.
    pub staff_note: Option<String>,
    /// Who made the last change: `owner` or a staff member's name.
    pub updated_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// What an owner asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Kind {
    /// A food or medication refill.
    Order,
    /// A visit.
    Appointment,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
pub enum Status {
    /// Made in the app; nobody has looked yet.
    Requested,
    /// An order the practice will fill.
    Accepted,
    /// An appointment the practice booked.
    Confirmed,
    /// An order waiting to be picked up.
    Ready,
    /// Done.
    Completed,
    /// The practice said no.
    Declined,
    /// The owner withdrew it.
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
