//! The signed-in staff member in the staff API: profile, password, picture,
//! two-factor login.

use petbridge_domain::{
    Platform,
    kernel::{permissions::Permission, text::Email},
    practices,
    staff::{
        accounts::{self, StaffChanges},
        two_factor,
    },
};
use petbridge_http::{
    ApiResult,
    fields::{Limited, Text},
    pictures::PictureUpload,
};

use super::api::DisplayName;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};
use uuid::Uuid;

use crate::{
    kit::{
        auth::{StaffAuth, authorize},
        responses::Done,
        tags::Tag,
    },
    staff::api::StaffMember,
};

/// A practice, as its staff see it.
#[derive(Debug, Object)]
pub struct PracticeInfo {
    /// Id.
    pub id: Uuid,
    /// Practice code.
    pub code: String,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// The signed-in staff member and their practice.
#[derive(Debug, Object)]
pub struct Me {
    /// Who.
    pub staff: StaffMember,
    /// Where.
    pub practice: PracticeInfo,
}

/// A code from the authenticator app.
#[derive(Debug, Object)]
pub struct Code {
    /// Six digits.
    #[oai(validator(max_length = 32))]
    pub code: String,
}

/// What the authenticator app needs.
#[derive(Debug, Object)]
pub struct TwoFactorSetup {
    /// The secret, base32, to type into the app.
    pub secret: String,
    /// The `otpauth://` URL, to scan as a QR code.
    pub otpauth_url: String,
}

/// One-time recovery codes: each stands in for the app once.
#[derive(Debug, Object)]
pub struct RecoveryCodes {
    /// Keep them somewhere safe; they are not shown again.
    pub recovery_codes: Vec<String>,
}

/// A password, to confirm a sensitive change.
#[derive(Debug, Object)]
pub struct PasswordConfirmation {
    /// The current password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// Changes to the caller's own profile.
#[derive(Debug, Object)]
pub struct ProfileChanges {
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New email; empty removes it.
    pub email: Option<Text<0, { Email::MAX_CHARS }>>,
}

/// A password change.
#[derive(Debug, Object)]
pub struct PasswordChange {
    /// The current password.
    #[oai(validator(max_length = 256))]
    pub current_password: String,
    /// The new password: at least 10 characters and hard to guess; long
    /// passphrases are welcome, no character rules.
    #[oai(validator(max_length = 256))]
    pub new_password: String,
}

/// This feature's operations of the staff API.
pub struct MeApi;

#[OpenApi]
impl MeApi {
    /// Start turning on two-factor login: a secret for the authenticator app.
    #[oai(path = "/me/two-factor", method = "post", tag = "Tag::Me", operation_id = "beginTwoFactor")]
    async fn begin_two_factor(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<TwoFactorSetup>> {
        let enrolment = two_factor::begin(&platform, auth.principal()).await?;
        Ok(Json(TwoFactorSetup { secret: enrolment.secret, otpauth_url: enrolment.otpauth_url }))
    }
    /// Finish turning on two-factor login with a code from the app; returns
    /// ten one-time recovery codes, shown only now.
    #[oai(path = "/me/two-factor/confirm", method = "post", tag = "Tag::Me", operation_id = "confirmTwoFactor")]
    async fn confirm_two_factor(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<Code>,
    ) -> ApiResult<Json<RecoveryCodes>> {
        let codes = two_factor::confirm(&platform, auth.principal(), auth.origin(), &body.code).await?;
        Ok(Json(RecoveryCodes { recovery_codes: codes }))
    }
    /// Turn two-factor login off (needs the password).
    #[oai(path = "/me/two-factor/disable", method = "post", tag = "Tag::Me", operation_id = "disableTwoFactor")]
    async fn disable_two_factor(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<PasswordConfirmation>,
    ) -> ApiResult<Done> {
        two_factor::disable(&platform, auth.principal(), auth.origin(), &body.password).await?;
        Ok(Done::NoContent)
    }
    /// The signed-in staff member and their practice.
    #[oai(path = "/me", method = "get", tag = "Tag::Me", operation_id = "getMe")]
    async fn me(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Me>> {
        let principal = auth.principal();
        let (member, practice) = futures_util::future::join(
            accounts::get(&platform, principal.scope(), principal.staff_id),
            practices::get(&platform, principal.scope()),
        )
        .await;
        let practice = practice?;
        Ok(Json(Me {
            staff: member?.into(),
            practice: PracticeInfo {
                id: practice.id,
                code: practice.slug,
                name: practice.name,
                time_zone: practice.time_zone.name().to_owned(),
            },
        }))
    }
    /// Change the caller's own display name or email.
    #[oai(path = "/me", method = "patch", tag = "Tag::Me", operation_id = "updateMe")]
    async fn update_me(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<ProfileChanges>,
    ) -> ApiResult<Json<StaffMember>> {
        let allowed = authorize(&platform, &auth, Permission::ProfileUpdateOwn).await?;
        let principal = auth.principal();
        let changes = StaffChanges {
            display_name: body.0.display_name.map(Limited::into_inner),
            email: body.0.email.map(Limited::into_inner),
            level: None,
        };
        let user = accounts::update(
            &platform,
            principal.scope(),
            &allowed.actor,
            None,
            auth.origin(),
            principal.staff_id,
            changes,
        )
        .await?;
        Ok(Json(user.into()))
    }
    /// Change the caller's own password; their other sessions end.
    #[oai(path = "/me/password", method = "post", tag = "Tag::Me", operation_id = "changeMyPassword")]
    async fn change_password(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<PasswordChange>,
    ) -> ApiResult<Done> {
        accounts::change_password(
            &platform,
            auth.principal(),
            auth.origin(),
            &body.current_password,
            &body.new_password,
        )
        .await?;
        Ok(Done::NoContent)
    }
    /// Set the caller's own profile picture (resized to a 256 px square).
    #[oai(path = "/me/picture", method = "put", tag = "Tag::Me", operation_id = "setMyPicture")]
    async fn set_my_picture(&self, auth: StaffAuth, platform: Data<&Platform>, body: PictureUpload) -> ApiResult<Done> {
        let principal = auth.principal();
        accounts::set_picture(
            &platform,
            principal.scope(),
            &principal.actor(),
            auth.origin(),
            principal.staff_id,
            body.into_bytes(),
        )
        .await?;
        Ok(Done::NoContent)
    }
}
