//! The owner's account in the app API: the practice's public page, sign-up,
//! login, tokens, verification, password reset, email change, deletion,
//! devices.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Platform,
    households::clients::{AccountStatus, PetSyncStatus},
    owners::accounts::{self, SignUp as OwnerSignUp, Tokens},
    practices,
};
use petbridge_http::{
    ApiError, ApiResult, RequestContext,
    fields::{Choices, EmailAddress, Limited, OneOf, Stored, Text},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use crate::kit::{auth::OwnerAuth, responses::Done, tags::Tag};

/// What the app shows before anyone logs in: the practice it is branded for.
#[derive(Debug, Object)]
pub struct PublicPractice {
    /// The practice code the app was built with.
    pub code: String,
    /// The practice's name.
    pub name: String,
    /// Its IANA time zone; appointment times are shown in it.
    pub time_zone: String,
}

/// A new account.
#[derive(Debug, Object)]
pub struct SignUp {
    /// The practice code the app is built for.
    pub practice: String,
    /// Email. Once the emailed link proves it, the account joins the
    /// practice's client with this email and sees that household; until
    /// then it sees only what it adds itself. An earlier sign-up with this
    /// address that never proved it is replaced.
    pub email: Limited<String, EmailAddress>,
    /// At least 10 characters and not easy to guess.
    #[oai(validator(max_length = 256))]
    pub password: String,
    /// First name (the practice's record names the household once the
    /// email is proved). The first or the last name is needed.
    #[oai(default)]
    pub first_name: String,
    /// Last name.
    #[oai(default)]
    pub last_name: String,
}

/// Login.
#[derive(Debug, Object)]
pub struct Login {
    /// The practice code the app is built for.
    pub practice: String,
    /// Email.
    pub email: String,
    /// Password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// A refresh token to exchange.
#[derive(Debug, Object)]
pub struct Refresh {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// Tokens for the app.
#[derive(Debug, Object)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer …`.
    pub access_token: String,
    /// When the access token stops working (refresh before).
    pub access_expires_at: DateTime<Utc>,
    /// Exchange once at `POST /auth/refresh` for a new pair.
    pub refresh_token: String,
    /// When the refresh token stops working (log in again after).
    pub refresh_expires_at: DateTime<Utc>,
}

impl From<Tokens> for TokenPair {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            access_expires_at: t.access_expires_at,
            refresh_token: t.refresh_token,
            refresh_expires_at: t.refresh_expires_at,
        }
    }
}

/// A token from an emailed link.
#[derive(Debug, Object)]
pub struct LinkToken {
    /// The `token` parameter of the link.
    pub token: String,
}

/// Ask for a password-reset email.
#[derive(Debug, Object)]
pub struct ResetRequest {
    /// The practice code.
    pub practice: String,
    /// The account's email.
    pub email: String,
}

/// A new password from a reset link.
#[derive(Debug, Object)]
pub struct ResetConfirm {
    /// The `token` parameter of the link.
    pub token: String,
    /// The new password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// A new email address for the account.
#[derive(Debug, Object)]
pub struct EmailChange {
    /// The new address; it must be verified again.
    pub email: Limited<String, EmailAddress>,
    /// The current password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// Confirms an account deletion.
#[derive(Debug, Object)]
pub struct DeletionRequest {
    /// The current password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// The owner's account.
#[derive(Debug, Object)]
pub struct Account {
    /// Id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// `verified` or `email_not_verified` (most features need a verified email).
    pub status: Stored<AccountStatus>,
    /// `connected` (the app shows the practice's records), `no_email_match` or `not_available`.
    pub pet_sync_status: Stored<PetSyncStatus>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A device to send push notifications to.
#[derive(Debug, Object)]
pub struct Device {
    /// The identifier push is sent to: an FCM registration token, or a
    /// Firebase installation id when `kind` is `fid`.
    pub token: Text<1, { accounts::MAX_DEVICE_TOKEN_BYTES }>,
    /// The device's system.
    pub platform: Limited<String, OneOf<Platforms>>,
    /// An FCM registration token (the default) or a Firebase installation id.
    #[oai(default = "default_device_kind")]
    pub kind: Limited<String, OneOf<DeviceKinds>>,
}

/// What [`accounts::register_device`] takes as a device's system.
pub struct Platforms;

impl Choices for Platforms {
    const NAMES: &'static [&'static str] = &accounts::DEVICE_PLATFORMS;
}

/// What [`accounts::register_device`] takes as a device's kind.
pub struct DeviceKinds;

impl Choices for DeviceKinds {
    const NAMES: &'static [&'static str] = &accounts::DEVICE_KINDS;
}

fn default_device_kind() -> Limited<String, OneOf<DeviceKinds>> {
    accounts::DEVICE_KINDS[0].to_owned().into()
}

/// Accepted.
#[derive(ApiResponse)]
enum Accepted {
    /// If the address has an account, an email is on its way.
    #[oai(status = 202)]
    Accepted,
}

/// Created.
#[derive(ApiResponse)]
enum SignedUp {
    /// The account exists and the app is logged in; a verification email is on its way.
    #[oai(status = 201)]
    Created(Json<TokenPair>),
}

/// This feature's operations of the app API.
pub struct AccountsApi;

#[OpenApi]
impl AccountsApi {
    /// The practice this app is branded for.
    #[oai(path = "/practices/:code", method = "get", tag = "Tag::Practice", operation_id = "getPractice")]
    async fn practice(&self, platform: Data<&Platform>, code: Path<String>) -> ApiResult<Json<PublicPractice>> {
        let practice = practices::find_by_slug(&platform, &code.0)
            .await?
            .ok_or_else(|| ApiError::from(petbridge_domain::Code::NotFound))?;
        Ok(Json(PublicPractice {
            code: practice.slug,
            name: practice.name,
            time_zone: practice.time_zone.name().to_owned(),
        }))
    }
    /// Create an account and log in; a verification link is emailed. 409
    /// `account_exists` when an account has proved this address already.
    #[oai(path = "/auth/sign-up", method = "post", tag = "Tag::Auth", operation_id = "signUp")]
    async fn sign_up(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<SignUp>,
    ) -> ApiResult<SignedUp> {
        let body = body.0;
        let tokens = accounts::sign_up(
            &platform,
            &context.origin,
            OwnerSignUp {
                practice: body.practice,
                email: body.email.into_inner(),
                password: body.password,
                first_name: body.first_name,
                last_name: body.last_name,
            },
        )
        .await?;
        Ok(SignedUp::Created(Json(tokens.into())))
    }
    /// Log in with email and password.
    #[oai(path = "/auth/login", method = "post", tag = "Tag::Auth", operation_id = "logIn")]
    async fn log_in(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<Login>,
    ) -> ApiResult<Json<TokenPair>> {
        let tokens =
            accounts::log_in(&platform, &context.origin, &body.0.practice, &body.0.email, &body.0.password).await?;
        Ok(Json(tokens.into()))
    }
    /// Exchange a refresh token for a new pair. A refresh token works once:
    /// presented again within 10 seconds (two parts of the app refreshing at
    /// once) it answers the same new pair; later, it ends the login (401
    /// `refresh_token_reused`).
    #[oai(path = "/auth/refresh", method = "post", tag = "Tag::Auth", operation_id = "refreshTokens")]
    async fn refresh(&self, platform: Data<&Platform>, body: Json<Refresh>) -> ApiResult<Json<TokenPair>> {
        Ok(Json(accounts::refresh(&platform, &body.0.refresh_token).await?.into()))
    }
    /// Log out: the tokens stop working and this device's push tokens are dropped.
    #[oai(path = "/auth/logout", method = "post", tag = "Tag::Auth", operation_id = "logOut")]
    async fn log_out(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Done> {
        accounts::log_out(&platform, &auth.0).await?;
        Ok(Done::NoContent)
    }
    /// Verify the email address with the token from the emailed link.
    #[oai(path = "/auth/verify-email", method = "post", tag = "Tag::Auth", operation_id = "verifyEmail")]
    async fn verify_email(&self, platform: Data<&Platform>, body: Json<LinkToken>) -> ApiResult<Done> {
        accounts::verify_email(&platform, &body.0.token).await?;
        Ok(Done::NoContent)
    }
    /// Send the verification link again.
    #[oai(path = "/auth/verify-email/resend", method = "post", tag = "Tag::Auth", operation_id = "resendVerification")]
    async fn resend_verification(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Done> {
        accounts::resend_verification(&platform, &auth.0).await?;
        Ok(Done::NoContent)
    }
    /// Ask for a password-reset link; the answer is the same whether or not the address has an account.
    #[oai(path = "/auth/password-reset", method = "post", tag = "Tag::Auth", operation_id = "requestPasswordReset")]
    async fn request_reset(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<ResetRequest>,
    ) -> ApiResult<Accepted> {
        accounts::request_password_reset(&platform, &context.origin, &body.0.practice, &body.0.email).await?;
        Ok(Accepted::Accepted)
    }
    /// Set a new password with the token from the emailed link; every login of the account ends.
    #[oai(path = "/auth/password-reset/confirm", method = "post", tag = "Tag::Auth", operation_id = "resetPassword")]
    async fn reset_password(&self, platform: Data<&Platform>, body: Json<ResetConfirm>) -> ApiResult<Done> {
        accounts::reset_password(&platform, &body.0.token, &body.0.password).await?;
        Ok(Done::NoContent)
    }
    /// The owner's account.
    #[oai(path = "/me", method = "get", tag = "Tag::Account", operation_id = "getAccount")]
    async fn me(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Account>> {
        let me = accounts::me(&platform, &auth.0).await?;
        let verified = me.account.email_verified_at.is_some();
        let status = if verified { AccountStatus::Verified } else { AccountStatus::EmailNotVerified };
        Ok(Json(Account {
            id: me.account.id,
            email: me.account.email,
            first_name: me.client.first_name,
            last_name: me.client.last_name,
            status: status.into(),
            pet_sync_status: me.client.pet_sync_status.into(),
            created_at: me.account.created_at,
        }))
    }
    /// Change the account's email; it must be verified again.
    #[oai(path = "/me/email", method = "put", tag = "Tag::Account", operation_id = "changeEmail")]
    async fn change_email(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<EmailChange>,
    ) -> ApiResult<Done> {
        accounts::change_email(&platform, &auth.0, &body.0.email, &body.0.password).await?;
        Ok(Done::NoContent)
    }
    /// Delete the account and its personal data (the practice keeps its own records).
    #[oai(path = "/me/deletion", method = "post", tag = "Tag::Account", operation_id = "deleteAccount")]
    async fn delete_account(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<DeletionRequest>,
    ) -> ApiResult<Done> {
        accounts::delete_account(&platform, &auth.0, &body.0.password, &context.origin).await?;
        Ok(Done::NoContent)
    }
    /// This login's push devices.
    #[oai(path = "/devices", method = "get", tag = "Tag::Account", operation_id = "listDevices")]
    async fn devices(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Device>>> {
        let devices = accounts::devices(&platform, &auth.0).await?;
        Ok(Json(
            devices
                .into_iter()
                .map(|d| Device { token: d.token.into(), platform: d.platform.into(), kind: d.kind.into() })
                .collect(),
        ))
    }
    /// Register this device's push token (dropped again at logout).
    #[oai(path = "/devices", method = "post", tag = "Tag::Account", operation_id = "registerDevice")]
    async fn register_device(&self, auth: OwnerAuth, platform: Data<&Platform>, body: Json<Device>) -> ApiResult<Done> {
        accounts::register_device(&platform, &auth.0, &body.0.token, &body.0.platform, &body.0.kind).await?;
        Ok(Done::NoContent)
    }
    /// Drop a push token.
    #[oai(path = "/devices/:token", method = "delete", tag = "Tag::Account", operation_id = "dropDevice")]
    async fn drop_device(&self, auth: OwnerAuth, platform: Data<&Platform>, token: Path<String>) -> ApiResult<Done> {
        accounts::drop_device(&platform, &auth.0, &token.0).await?;
        Ok(Done::NoContent)
    }
}
