use sea_orm::entity::prelude::*;

/// One try at logging in to a practice, kept for lockout and for the
/// "failed login attempts in the last two days" column.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub practice_id: Uuid,
    /// The account tried, when the user name names one.
    pub staff_user_id: Option<Uuid>,
    /// The user name as typed (normalised).
    pub username: String,
    pub ip: Option<String>,
    pub succeeded: bool,
    pub attempted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
