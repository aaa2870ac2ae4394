//! Who may do what: a signed-in staff member's level, or a manager's
//! credentials given for one action on that staff member's screen (a manager
//! override), recorded with both names.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    Actor, DomainError, DomainResult, Origin, Platform,
    entities::staff_user,
    services::{
        activity::{self, Entry},
        passwords::Verified,
        permissions::Permission,
        sessions::StaffPrincipal,
        staff::SecurityLevel,
    },
    types::Username,
};

/// A manager's (or administrator's) credentials for one action.
#[derive(Clone)]
pub struct Override {
    /// Their user name.
    pub username: String,
    /// Their password.
    pub password: String,
}

impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Override").field("username", &self.username).field("password", &"[redacted]").finish()
    }
}

/// Permission granted: who acts, and who approved it if it took an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// The signed-in staff member.
    pub actor: Actor,
    /// The manager whose credentials approved the action.
    pub approver: Option<Actor>,
}

/// Checks that `principal` may use `permission`, on their own level or with
/// an override by someone in the same practice who holds it. Anything else is
/// `Forbidden`; a failed override is logged.
pub async fn authorize(
    platform: &Platform,
    principal: &StaffPrincipal,
    permission: Permission,
    with_override: Option<&Override>,
    origin: &Origin,
) -> DomainResult<Authorized> {
    let actor = principal.actor();
    if principal.level.grants(permission) {
        return Ok(Authorized { actor, approver: None });
    }
    let Some(credentials) = with_override else {
        return Err(DomainError::Forbidden);
    };
    let approver = match Username::parse(&credentials.username) {
        Ok(name) => {
            staff_user::Entity::find()
                .filter(staff_user::Column::PracticeId.eq(principal.practice_id))
                .filter(staff_user::Column::Username.eq(name.as_str()))
                .filter(staff_user::Column::DeletedAt.is_null())
                .filter(staff_user::Column::LockedAt.is_null())
                .one(&platform.db)
                .await?
        }
        Err(_) => None,
    };
    let verdict =
        platform.passwords.verify(&credentials.password, approver.as_ref().map(|a| a.password_hash.as_str())).await?;
    let approved = approver.filter(|approver| {
        verdict != Verified::No && SecurityLevel::parse(&approver.level).is_ok_and(|level| level.grants(permission))
    });
    match approved {
        Some(approver) => {
            let approver = Actor { id: Some(approver.id), name: approver.username };
            activity::record(
                &platform.db,
                platform,
                principal.scope(),
                Entry::new("auth.override", &actor, origin)
                    .detail(serde_json::json!({ "permission": permission.name() }))
                    .approved_by(Some(&approver)),
            )
            .await?;
            Ok(Authorized { actor, approver: Some(approver) })
        }
        None => {
            activity::record(
                &platform.db,
                platform,
                principal.scope(),
                Entry::new("auth.override_refused", &actor, origin).detail(serde_json::json!({
                    "permission": permission.name(),
                    "approver_username": credentials.username.chars().take(64).collect::<String>(),
                })),
            )
            .await?;
            Err(DomainError::Forbidden)
        }
    }
}
