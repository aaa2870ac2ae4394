//! The owner app's API, `/api/app/v1`. Its OpenAPI document is the contract
//! app developers generate their client from.
//!
//! Owners log in with email and password and get a short-lived access token
//! (`Authorization: Bearer …`) and a refresh token that works once: each
//! refresh returns a new pair, and presenting a used refresh token again ends
//! that login everywhere (it was copied).

pub mod chat;
pub mod household;

pub use chat::{AppChatApi, app_socket};
pub use household::AppHouseholdApi;

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    households::{
        clients::{self, AccountStatus, PetDetail, PetSyncStatus},
        preferences::{self, ChangedBy},
    },
    kernel::caller::OwnerPrincipal,
    owners::accounts::{self, NewPet as NewOwnerPet, SignUp as OwnerSignUp, Tokens},
    practices,
};
use petbridge_http::{
    ApiError, ApiResult, RequestContext,
    preferences::{CommunicationPreferences, PreferencesChange},
};
use poem::{Request, http::StatusCode, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme, Tags, auth::Bearer, param::Path, payload::Json};
use uuid::Uuid;

/// The version the app API document carries.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The owner app API.
pub struct AppApi;

#[derive(Tags)]
enum Tag {
    /// Before login: the practice the app is branded for.
    Practice,
    /// Sign-up, login, tokens, email verification, password reset.
    Auth,
    /// The owner's own account and devices.
    Account,
    /// Pets, reminders and appointments.
    Pets,
}

/// An access token from login, sign-up or refresh.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_access")]
pub struct OwnerAuth(OwnerPrincipal);

async fn check_access(req: &Request, bearer: Bearer) -> poem::Result<OwnerPrincipal> {
    let platform = req
        .data::<Platform>()
        .ok_or_else(|| poem::Error::from_string("platform missing", StatusCode::INTERNAL_SERVER_ERROR))?;
    accounts::authenticate(platform, &bearer.token)
        .await
        .map_err(|err| poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(err))))
}

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
    pub email: String,
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
    pub email: String,
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
    pub status: String,
    /// `connected` (the app shows the practice's records), `no_email_match` or `not_available`.
    pub pet_sync_status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A device to send push notifications to.
#[derive(Debug, Object)]
pub struct Device {
    /// The identifier push is sent to: an FCM registration token, or a
    /// Firebase installation id when `kind` is `fid`.
    pub token: String,
    /// `ios` or `android`.
    pub platform: String,
    /// `fcm_token` (the default) or `fid`.
    #[oai(default = "default_device_kind")]
    pub kind: String,
}

fn default_device_kind() -> String {
    "fcm_token".to_owned()
}

/// A health-service reminder.
#[derive(Debug, Object)]
pub struct Reminder {
    /// The service, e.g. "Rabies vaccine".
    pub service: String,
    /// When it is due.
    pub due_on: NaiveDate,
    /// Whether that day has passed.
    pub past_due: bool,
}

/// A pet.
#[derive(Debug, Object)]
pub struct Pet {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the owner added it (and may edit it); otherwise it comes from the practice.
    pub added_by_owner: bool,
    /// Whether a health service is past due.
    pub past_due: bool,
    /// Open reminders, earliest first.
    pub reminders: Vec<Reminder>,
    /// The owner's notes about the pet (the practice sees them too).
    pub notes: Option<String>,
    /// The owner marked it inactive (it passed away, ran away…).
    pub inactive: bool,
    /// What the owner said when marking it inactive.
    pub inactive_reason: Option<String>,
}

pub(crate) fn pet(detail: PetDetail, today: NaiveDate) -> Pet {
    Pet {
        notes: detail.pet.owner_notes.clone(),
        inactive: detail.pet.owner_inactive_at.is_some(),
        inactive_reason: detail.pet.owner_inactive_reason.clone(),
        past_due: detail.past_due(today),
        id: detail.pet.id,
        name: detail.pet.name,
        species: detail.pet.species,
        breed: detail.pet.breed,
        sex: detail.pet.sex,
        date_of_birth: detail.pet.date_of_birth,
        added_by_owner: detail.pet.added_by_owner,
        reminders: detail
            .reminders
            .into_iter()
            .map(|r| Reminder { past_due: r.due_on < today, service: r.service, due_on: r.due_on })
            .collect(),
    }
}

/// A pet the owner adds.
#[derive(Debug, Object)]
pub struct NewPet {
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth: with the name, it merges this pet with the practice's record of it.
    pub date_of_birth: Option<NaiveDate>,
}

/// An upcoming appointment.
#[derive(Debug, Object)]
pub struct Appointment {
    /// When.
    pub starts_at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The pet, when the appointment is for one shown in the app.
    pub pet_id: Option<Uuid>,
}

/// Done, nothing to return.
#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
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

/// Created.
#[derive(ApiResponse)]
enum PetCreated {
    /// The new pet.
    #[oai(status = 201)]
    Created(Json<Pet>),
}

pub(crate) async fn today(platform: &Platform, principal: &OwnerPrincipal) -> ApiResult<NaiveDate> {
    Ok(practices::get(platform, principal.scope()).await?.today(platform.clock.now()))
}

#[OpenApi]
impl AppApi {
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
                email: body.email,
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
            status: status.as_str().to_owned(),
            pet_sync_status: PetSyncStatus::parse(&me.client.pet_sync_status).as_str().to_owned(),
            created_at: me.account.created_at,
        }))
    }

    /// The household's communication preferences (the practice sees and may change the same record).
    #[oai(path = "/me/preferences", method = "get", tag = "Tag::Account", operation_id = "getPreferences")]
    async fn preferences(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        let household = accounts::household(&platform, &auth.0).await?;
        Ok(Json(preferences::get(&platform, auth.0.scope(), household.id).await?.into()))
    }

    /// Change the communication preferences; fields left out stay as they are.
    #[oai(path = "/me/preferences", method = "patch", tag = "Tag::Account", operation_id = "updatePreferences")]
    async fn update_preferences(
        &self,
        auth: OwnerAuth,
        platform: Data<&Platform>,
        body: Json<PreferencesChange>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        let household = accounts::household(&platform, &auth.0).await?;
        let scope = auth.0.scope();
        Ok(Json(preferences::update(&platform, scope, household.id, body.0.into(), ChangedBy::Owner).await?.into()))
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
        Ok(Json(devices.into_iter().map(|d| Device { token: d.token, platform: d.platform, kind: d.kind }).collect()))
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

    /// The household's pets: from the practice and the owner's own. Needs a verified email.
    #[oai(path = "/pets", method = "get", tag = "Tag::Pets", operation_id = "listPets")]
    async fn pets(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Pet>>> {
        let today = today(&platform, &auth.0).await?;
        let pets = accounts::pets(&platform, &auth.0).await?;
        Ok(Json(pets.into_iter().map(|p| pet(p, today)).collect()))
    }

    /// Add a pet of your own.
    #[oai(path = "/pets", method = "post", tag = "Tag::Pets", operation_id = "addPet")]
    async fn add_pet(&self, auth: OwnerAuth, platform: Data<&Platform>, body: Json<NewPet>) -> ApiResult<PetCreated> {
        let body = body.0;
        let row = accounts::add_pet(
            &platform,
            &auth.0,
            NewOwnerPet {
                name: body.name,
                species: body.species,
                breed: body.breed,
                sex: body.sex,
                date_of_birth: body.date_of_birth,
            },
        )
        .await?;
        let today = today(&platform, &auth.0).await?;
        Ok(PetCreated::Created(Json(pet(PetDetail { pet: row, in_app: true, reminders: Vec::new() }, today))))
    }

    /// Upcoming appointments of the household. Needs a verified email.
    #[oai(path = "/appointments", method = "get", tag = "Tag::Pets", operation_id = "listAppointments")]
    async fn appointments(&self, auth: OwnerAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<Appointment>>> {
        let pets = accounts::pets(&platform, &auth.0).await?;
        let household = accounts::household(&platform, &auth.0).await?;
        let upcoming =
            clients::upcoming_appointments(&platform, auth.0.scope(), &household, platform.clock.now()).await?;
        Ok(Json(
            upcoming
                .into_iter()
                .map(|a| Appointment {
                    pet_id: pets
                        .iter()
                        .find(|p| p.pet.pms_id.is_some() && p.pet.pms_id == a.pet_pms_id)
                        .map(|p| p.pet.id),
                    starts_at: a.starts_at,
                    reason: a.reason,
                })
                .collect(),
        ))
    }
}
