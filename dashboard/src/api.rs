//! The staff API, `/api/dashboard/v1`: what the dashboard's pages do, for
//! scripts and integrations too.

use chrono::{DateTime, Utc};
use petbridge_domain::{
    Cursor, Platform,
    db::entities::{delivery, staff_user},
    deliveries::outbox,
    kernel::{paging::page_limit, permissions::Permission},
    practices,
    staff::{
        accounts::{self, StaffChanges},
        sessions, two_factor,
    },
};
use petbridge_http::{
    ApiResult, RequestContext,
    pictures::{Picture, PictureUpload},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, Tags,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use crate::auth::{ManagerOverride, StaffAuth, authorize};

#[derive(Tags)]
enum Tag {
    /// Logging in and out.
    Auth,
    /// The signed-in staff member and their practice.
    Me,
    /// Staff accounts.
    Staff,
    /// Outgoing push notifications, texts and emails, and what became of them.
    Deliveries,
}

/// The staff API.
pub struct DashboardApi;

/// A user name and password for a practice.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// The practice code shown on the login page.
    #[oai(validator(max_length = 48))]
    pub practice: String,
    /// The user name.
    #[oai(validator(max_length = 64))]
    pub username: String,
    /// The password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// A new session.
#[derive(Debug, Object)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. When `second_factor_required`
    /// is true it is good only for `POST /auth/second-factor`.
    pub token: String,
    /// The account uses two-factor login: send a code from the
    /// authenticator app (or a recovery code) within five minutes.
    pub second_factor_required: bool,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// Who logged in.
    pub staff: StaffMember,
}

/// A staff member as colleagues see them.
#[derive(Debug, Object)]
pub struct StaffMember {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Name shown in the dashboard.
    pub display_name: String,
    /// `staff`, `manager` or `administrator`.
    pub level: String,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Whether `GET /staff/{id}/picture` has a picture.
    pub has_picture: bool,
}

impl From<staff_user::Model> for StaffMember {
    fn from(model: staff_user::Model) -> Self {
        Self {
            id: model.id,
            username: model.username,
            display_name: model.display_name,
            level: model.level,
            last_login_at: model.last_login_at,
            has_picture: model.picture_key.is_some(),
        }
    }
}

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

/// One outgoing delivery.
#[derive(Debug, Object)]
pub struct Delivery {
    /// Id.
    pub id: Uuid,
    /// `push`, `sms` or `email`.
    pub channel: String,
    /// Device, number or address.
    pub recipient: String,
    /// Subject or title.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// Why it was sent.
    pub reason: String,
    /// `queued`, `sent`, `failed` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Who sent it (`dev` for the development provider).
    pub provider: Option<String>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<delivery::Model> for Delivery {
    fn from(model: delivery::Model) -> Self {
        Self {
            id: model.id,
            channel: model.channel,
            recipient: model.recipient,
            subject: model.subject,
            body: model.body,
            reason: model.reason,
            status: model.status,
            attempts: model.attempts,
            provider: model.provider,
            provider_id: model.provider_id,
            last_error: model.last_error,
            created_at: model.created_at,
            sent_at: model.sent_at,
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Object)]
pub struct DeliveryPage {
    /// The deliveries.
    pub items: Vec<Delivery>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// Logged out.
#[derive(ApiResponse)]
enum LoggedOut {
    /// The session is ended.
    #[oai(status = 204)]
    Done,
}

/// Done, nothing to return.
#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// The second step of a two-factor login.
#[derive(Debug, Object)]
pub struct SecondFactor {
    /// The token `POST /auth/login` returned.
    pub token: String,
    /// A code from the authenticator app, or a recovery code.
    #[oai(validator(max_length = 32))]
    pub code: String,
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
    pub display_name: Option<String>,
    /// New email; empty removes it.
    pub email: Option<String>,
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

#[OpenApi]
impl DashboardApi {
    /// Log in with a practice code, user name and password.
    ///
    /// A wrong practice, user name or password, and a locked account, all
    /// answer 401 `invalid_credentials`: the answer never says which.
    #[oai(path = "/auth/login", method = "post", tag = "Tag::Auth", operation_id = "login")]
    async fn login(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<LoginRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        let logged_in =
            accounts::log_in(&platform, &body.practice, &body.username, &body.password, &context.origin, None).await?;
        Ok(Json(LoginResponse {
            token: logged_in.session.token,
            second_factor_required: logged_in.second_factor_required,
            expires_at: logged_in.session.expires_at,
            staff: logged_in.staff.into(),
        }))
    }

    /// Complete a two-factor login with a code from the authenticator app or
    /// a recovery code. Five wrong codes abandon the login.
    #[oai(path = "/auth/second-factor", method = "post", tag = "Tag::Auth", operation_id = "completeSecondFactor")]
    async fn second_factor(
        &self,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<SecondFactor>,
    ) -> ApiResult<Json<LoginResponse>> {
        let session = two_factor::complete_login(&platform, &body.token, &body.code, &context.origin).await?;
        let principal = sessions::authenticate(&platform, &session.token).await?;
        let staff = accounts::get(&platform, principal.scope(), principal.staff_id).await?;
        Ok(Json(LoginResponse {
            token: session.token,
            second_factor_required: false,
            expires_at: session.expires_at,
            staff: staff.into(),
        }))
    }

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
        context: Data<&RequestContext>,
        body: Json<Code>,
    ) -> ApiResult<Json<RecoveryCodes>> {
        let codes = two_factor::confirm(&platform, auth.principal(), &context.origin, &body.code).await?;
        Ok(Json(RecoveryCodes { recovery_codes: codes }))
    }

    /// Turn two-factor login off (needs the password).
    #[oai(path = "/me/two-factor/disable", method = "post", tag = "Tag::Me", operation_id = "disableTwoFactor")]
    async fn disable_two_factor(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<PasswordConfirmation>,
    ) -> ApiResult<Done> {
        two_factor::disable(&platform, auth.principal(), &context.origin, &body.password).await?;
        Ok(Done::NoContent)
    }

    /// End the current session.
    #[oai(path = "/auth/logout", method = "post", tag = "Tag::Auth", operation_id = "logout")]
    async fn logout(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
    ) -> ApiResult<LoggedOut> {
        accounts::log_out(&platform, auth.principal(), &context.origin).await?;
        Ok(LoggedOut::Done)
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
        manager: ManagerOverride,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: Json<ProfileChanges>,
    ) -> ApiResult<Json<StaffMember>> {
        let allowed = authorize(&platform, &auth, Permission::ProfileUpdateOwn, &manager, &context).await?;
        let principal = auth.principal();
        let changes = StaffChanges { display_name: body.0.display_name, email: body.0.email, level: None };
        let user = accounts::update(
            &platform,
            principal.scope(),
            &allowed.actor,
            None,
            &context.origin,
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
        context: Data<&RequestContext>,
        body: Json<PasswordChange>,
    ) -> ApiResult<Done> {
        accounts::change_password(
            &platform,
            auth.principal(),
            &context.origin,
            &body.current_password,
            &body.new_password,
        )
        .await?;
        Ok(Done::NoContent)
    }

    /// Set the caller's own profile picture (resized to a 256 px square).
    #[oai(path = "/me/picture", method = "put", tag = "Tag::Me", operation_id = "setMyPicture")]
    async fn set_my_picture(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        context: Data<&RequestContext>,
        body: PictureUpload,
    ) -> ApiResult<Done> {
        let principal = auth.principal();
        accounts::set_picture(
            &platform,
            principal.scope(),
            &principal.actor(),
            &context.origin,
            principal.staff_id,
            body.into_bytes(),
        )
        .await?;
        Ok(Done::NoContent)
    }

    /// A colleague's profile picture.
    #[oai(path = "/staff/:id/picture", method = "get", tag = "Tag::Staff", operation_id = "getStaffPicture")]
    async fn staff_picture(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Picture> {
        let bytes = accounts::picture(&platform, auth.principal().scope(), id.0).await?;
        Ok(Picture::private(bytes, 300))
    }

    /// A colleague in the same practice.
    #[oai(path = "/staff/:id", method = "get", tag = "Tag::Staff", operation_id = "getStaffMember")]
    async fn staff_member(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<StaffMember>> {
        Ok(Json(accounts::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }

    /// The practice's outgoing deliveries, newest first.
    #[oai(path = "/deliveries", method = "get", tag = "Tag::Deliveries", operation_id = "listDeliveries")]
    async fn deliveries(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// The `next` of the previous page.
        after: Query<Option<String>>,
        /// Items per page, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<DeliveryPage>> {
        let after = after.0.as_deref().map(Cursor::decode).transpose()?;
        let page = outbox::list(&platform, auth.principal().scope(), after, page_limit(limit.0)?).await?;
        Ok(Json(DeliveryPage {
            items: page.items.into_iter().map(Delivery::from).collect(),
            next: page.next.map(|c| c.encode()),
        }))
    }

    /// One delivery.
    #[oai(path = "/deliveries/:id", method = "get", tag = "Tag::Deliveries", operation_id = "getDelivery")]
    async fn delivery(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<Delivery>> {
        Ok(Json(outbox::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
}
