//! Pet owners' app accounts: sign-up matched to the PMS client by email,
//! email verification, login with a short-lived access token and a rotating
//! refresh token, logout, password reset, email change, deletion, disabling
//! by the practice, push device tokens, and the owner's own pets.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::kernel::text::MAX_NAME_CHARS;
use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    chat::conversations,
    db::entities::{
        client, delivery::SEALED, owner_account, owner_device, owner_email_token, owner_refresh_token, owner_session,
        pet,
    },
    deliveries::{
        links,
        outbox::{self, Channel, NewDelivery},
    },
    households::clients::{self, PetDetail},
    kernel::{
        caller::OwnerPrincipal,
        passwords::{self, Verified},
        practice::Practice,
        text::Email,
        tokens,
    },
    loyalty,
    ports::caches::Invalidation,
    practices,
};

/// How long an access token works.
pub const ACCESS_TTL_MINUTES: i64 = 15;
/// How long a refresh token works (each refresh issues a new one).
pub const REFRESH_TTL_DAYS: i64 = 60;
const VERIFY_TTL_DAYS: i64 = 7;
const RESET_TTL_MINUTES: i64 = 60;
const VERIFY_EMAIL: &str = "verify_email";
const RESET_PASSWORD: &str = "reset_password";

/// What login, sign-up and refresh hand the app.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Bearer token for API calls.
    pub access_token: String,
    /// When it stops working.
    pub access_expires_at: DateTime<Utc>,
    /// Exchange it once for new tokens.
    pub refresh_token: String,
    /// When it stops working.
    pub refresh_expires_at: DateTime<Utc>,
}

/// A sign-up from the app.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// The practice code the app is built for.
    pub practice: String,
    /// Email (matched to the practice's PMS clients).
    pub email: String,
    /// Password.
    pub password: String,
    /// First name (used when no PMS client matches).
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

async fn practice_by_code(platform: &Platform, code: &str) -> DomainResult<Practice> {
    practices::find_by_slug(platform, code).await?.ok_or(DomainError::NotFound)
}

async fn find_account(
    conn: &impl ConnectionTrait,
    scope: Scope,
    email: &str,
) -> DomainResult<Option<owner_account::Model>> {
    Ok(owner_account::Entity::find()
        .filter(owner_account::Column::PracticeId.eq(scope.practice_id))
        .filter(owner_account::Column::Email.eq(email))
        .one(conn)
        .await?)
}

/// The household an account joins once it has proved its email: the PMS
/// client with that email (the most recently active), else one staff
/// invited; none that already has an app account. An unverified sign-up
/// owns nothing: it waits in a household of its own (see [`sign_up`]).
async fn household_to_join(
    conn: &impl ConnectionTrait,
    scope: Scope,
    email: &str,
    own: Uuid,
) -> DomainResult<Option<client::Model>> {
    let candidates = client::Entity::find()
        .filter(client::Column::PracticeId.eq(scope.practice_id))
        .filter(client::Column::Email.eq(email))
        .filter(client::Column::Id.ne(own))
        .order_by_desc(client::Column::LastActivityOn)
        .all(conn)
        .await?;
    let mut free = Vec::new();
    for candidate in candidates {
        let taken = owner_account::Entity::find()
            .filter(owner_account::Column::ClientId.eq(candidate.id))
            .one(conn)
            .await?
            .is_some();
        if !taken {
            free.push(candidate);
        }
    }
    free.sort_by_key(|c| c.pms_updated_at.is_none());
    Ok(free.into_iter().next())
}

/// A household of the sign-up's own, known by its email until the account
/// proves it and joins the practice's record of that email.
async fn own_household(
    conn: &impl ConnectionTrait,
    scope: Scope,
    email: &str,
    first_name: &str,
    last_name: &str,
    now: DateTime<Utc>,
) -> DomainResult<client::Model> {
    let first_name: String = first_name.trim().chars().take(100).collect();
    let last_name: String = last_name.trim().chars().take(100).collect();
    if first_name.is_empty() && last_name.is_empty() {
        return Err(DomainError::with(Code::MissingName, "give your first or last name"));
    }
    let mut row = clients::new_row(scope, now);
    row.first_name = Set(first_name);
    row.last_name = Set(last_name);
    row.email = Set(Some(email.to_owned()));
    Ok(row.insert(conn).await?)
}

async fn send_link(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    account: &owner_account::Model,
    purpose: &'static str,
    email: &str,
) -> DomainResult<()> {
    let token = tokens::random_token()?;
    let now = platform.clock.now();
    let ttl =
        if purpose == VERIFY_EMAIL { Duration::days(VERIFY_TTL_DAYS) } else { Duration::minutes(RESET_TTL_MINUTES) };
    owner_email_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(account.id),
        purpose: Set(purpose.to_owned()),
        email: Set(email.to_owned()),
        token_hash: Set(tokens::token_hash(&token)),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    let (subject, path, text) = if purpose == VERIFY_EMAIL {
        (
            format!("Confirm your email for the {} app", practice.name),
            "/app/verify-email",
            "Confirm this email address to see your pets, reminders and appointments in the app",
        )
    } else {
        (
            format!("Reset your {} app password", practice.name),
            "/app/reset-password",
            "Someone (we hope you) asked to reset your app password. Choose a new one",
        )
    };
    // The link signs its holder in: only the recipient's copy carries it.
    let link = platform.link(&format!("{path}?token={token}"));
    outbox::enqueue(
        conn,
        platform,
        Scope { practice_id: practice.id },
        NewDelivery {
            channel: Channel::Email,
            recipient: email.to_owned(),
            subject: Some(subject),
            body: format!(
                "{text}:\n\n{SEALED}\n\nThe link works once. If you did not ask for this, ignore this email.\n"
            ),
            data: serde_json::json!({ "template": purpose, "link": SEALED }),
            reason: format!("{purpose} for an app account"),
            purpose: outbox::Purpose::Account,
            client_id: None,
            not_before: None,
            sealed: Some(link),
        },
    )
    .await?;
    Ok(())
}

async fn open_session(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    account: &owner_account::Model,
) -> DomainResult<Tokens> {
    let now = platform.clock.now();
    let access_token = tokens::random_token()?;
    let session = owner_session::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(account.practice_id),
        account_id: Set(account.id),
        access_hash: Set(tokens::token_hash(&access_token)),
        access_expires_at: Set(now + Duration::minutes(ACCESS_TTL_MINUTES)),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    let (refresh_token, refresh_expires_at) = new_refresh(conn, platform, session.id).await?;
    Ok(Tokens { access_token, access_expires_at: session.access_expires_at, refresh_token, refresh_expires_at })
}

async fn new_refresh(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    session_id: Uuid,
) -> DomainResult<(String, DateTime<Utc>)> {
    let token = tokens::random_token()?;
    let expires_at = platform.clock.now() + Duration::days(REFRESH_TTL_DAYS);
    store_refresh(conn, platform, session_id, &token, expires_at).await?;
    Ok((token, expires_at))
}

async fn store_refresh(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    session_id: Uuid,
    token: &str,
    expires_at: DateTime<Utc>,
) -> DomainResult<()> {
    owner_refresh_token::ActiveModel {
        id: Set(Uuid::new_v4()),
        session_id: Set(session_id),
        token_hash: Set(tokens::token_hash(token)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(platform.clock.now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Creates an account and its own household, sends the verification email,
/// and logs the app in. The account joins the PMS client with its email only
/// when it proves the address ([`verify_email`]): until then it sees none of
/// that household. An older account with this email that never proved it
/// (someone else's sign-up, or the owner's forgotten one) is retired, so the
/// address's real owner can always sign up.
pub async fn sign_up(platform: &Platform, origin: &Origin, new: SignUp) -> DomainResult<Tokens> {
    let practice = practice_by_code(platform, &new.practice).await?;
    let scope = Scope { practice_id: practice.id };
    let email = Email::parse(&new.email)?.as_str().to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_owned();
    passwords::check_strength(&new.password, &[&local, &new.first_name, &new.last_name])?;
    if !platform.login_throttle.allow(origin.ip.as_deref()) {
        return Err(DomainError::from(Code::TooManyAttempts));
    }
    if let Some(existing) = find_account(&platform.db, scope, &email).await?
        && holds_its_email(&platform.db, &existing).await?
    {
        return Err(DomainError::from(Code::AccountExists));
    }
    let password_hash = platform.passwords.hash(&new.password).await?;
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    let mut retired = Vec::new();
    if let Some(existing) = find_account(&txn, scope, &email).await? {
        if holds_its_email(&txn, &existing).await? {
            return Err(DomainError::from(Code::AccountExists));
        }
        retired = remove_account(&txn, platform, scope, &existing).await?;
        let system = Actor::system("sign-up");
        let entry = Entry::new("owner.account_retired", &system, origin)
            .target("owner_account", existing.id)
            .detail(serde_json::json!({ "reason": "a new sign-up with the address it never verified" }));
        entry.record(&txn, platform, scope).await?;
    }
    let household = own_household(&txn, scope, &email, &new.first_name, &new.last_name, now).await?;
    let account = owner_account::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(household.id),
        email: Set(email.clone()),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        disabled_at: Set(None),
        last_login_at: Set(Some(now)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    send_link(&txn, platform, &practice, &account, VERIFY_EMAIL, &email).await?;
    clients::refresh_listings(&txn, platform, scope, &[household.id]).await?;
    let tokens = open_session(&txn, platform, &account).await?;
    txn.commit().await?;
    forget_sessions(platform, retired).await;
    Ok(tokens)
}

/// Whether an account holds its address: verified, or verified once before
/// its owner moved it to a new address still waiting for its link.
async fn holds_its_email(conn: &impl ConnectionTrait, account: &owner_account::Model) -> DomainResult<bool> {
    if account.email_verified_at.is_some() {
        return Ok(true);
    }
    Ok(owner_email_token::Entity::find()
        .filter(owner_email_token::Column::AccountId.eq(account.id))
        .filter(owner_email_token::Column::Purpose.eq(VERIFY_EMAIL))
        .filter(owner_email_token::Column::UsedAt.is_not_null())
        .one(conn)
        .await?
        .is_some())
}

/// Removes an account with its sessions, devices and links, and what it
/// alone owned: an app-only household goes with it; of a PMS client, only
/// the pets the owner added. Returns the access hashes of its sessions, for
/// the caller to forget once committed.
async fn remove_account(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    account: &owner_account::Model,
) -> DomainResult<Vec<String>> {
    let sessions =
        owner_session::Entity::find().filter(owner_session::Column::AccountId.eq(account.id)).all(conn).await?;
    let household = clients::get_in(conn, scope, account.client_id).await?;
    for session in &sessions {
        owner_refresh_token::Entity::delete_many()
            .filter(owner_refresh_token::Column::SessionId.eq(session.id))
            .exec(conn)
            .await?;
    }
    owner_session::Entity::delete_many().filter(owner_session::Column::AccountId.eq(account.id)).exec(conn).await?;
    owner_device::Entity::delete_many().filter(owner_device::Column::AccountId.eq(account.id)).exec(conn).await?;
    owner_email_token::Entity::delete_many()
        .filter(owner_email_token::Column::AccountId.eq(account.id))
        .exec(conn)
        .await?;
    owner_account::Entity::delete_by_id(account.id).exec(conn).await?;
    if household.pms_id.is_none() {
        pet::Entity::delete_many().filter(pet::Column::ClientId.eq(household.id)).exec(conn).await?;
        client::Entity::delete_by_id(household.id).exec(conn).await?;
    } else {
        // The owner's own additions are personal data; the PMS's records stay.
        pet::Entity::delete_many()
            .filter(pet::Column::ClientId.eq(household.id))
            .filter(pet::Column::PmsId.is_null())
            .exec(conn)
            .await?;
        client::Entity::update_many()
            .col_expr(client::Column::InvitedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(client::Column::Id.eq(household.id))
            .exec(conn)
            .await?;
        clients::refresh_listings(conn, platform, scope, &[household.id]).await?;
    }
    Ok(sessions.into_iter().map(|s| s.access_hash).collect())
}

async fn forget_sessions(platform: &Platform, access_hashes: Vec<String>) {
    for hash in access_hashes {
        platform.invalidate(Invalidation::OwnerSession(hash)).await;
    }
}

async fn take_email_token(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    token: &str,
    purpose: &str,
) -> DomainResult<(owner_email_token::Model, owner_account::Model)> {
    let invalid = || DomainError::with(Code::InvalidToken, "this link is not valid or has expired; ask for a new one");
    let now = platform.clock.now();
    let row = owner_email_token::Entity::find()
        .filter(owner_email_token::Column::TokenHash.eq(tokens::token_hash(token.trim())))
        .filter(owner_email_token::Column::Purpose.eq(purpose))
        .one(conn)
        .await?
        .filter(|t| t.used_at.is_none() && t.expires_at > now)
        .ok_or_else(invalid)?;
    let account = owner_account::Entity::find_by_id(row.account_id).one(conn).await?.ok_or_else(invalid)?;
    let used = owner_email_token::Entity::update_many()
        .col_expr(owner_email_token::Column::UsedAt, Expr::value(now))
        .filter(owner_email_token::Column::Id.eq(row.id))
        .filter(owner_email_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if used.rows_affected != 1 {
        return Err(invalid());
    }
    Ok((row, account))
}

/// Verifies the address a verification link was sent to (if it is still
/// the account's address).
pub async fn verify_email(platform: &Platform, token: &str) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    let (row, account) = take_email_token(&txn, platform, token, VERIFY_EMAIL).await?;
    if row.email != account.email {
        return Err(DomainError::with(
            Code::InvalidToken,
            "this link is for an email address the account no longer uses",
        ));
    }
    prove_address(&txn, platform, account).await?;
    txn.commit().await?;
    forget_account_sessions(platform, row.account_id).await
}

/// Marks the address of the account `email` names in `scope` as proved,
/// without a link: for the operator's demo data only (`petbridge demo`),
/// whose owners read no mail.
pub async fn vouch_for_address(platform: &Platform, scope: Scope, email: &str) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    let account = owner_account::Entity::find()
        .filter(owner_account::Column::PracticeId.eq(scope.practice_id))
        .filter(owner_account::Column::Email.eq(email))
        .one(&txn)
        .await?
        .ok_or(Code::NotFound)?;
    let account_id = account.id;
    prove_address(&txn, platform, account).await?;
    txn.commit().await?;
    forget_account_sessions(platform, account_id).await
}

/// What a proved address brings: the account joins the practice's record
/// of that address, earns the app-download paws and can chat.
async fn prove_address(
    txn: &impl ConnectionTrait,
    platform: &Platform,
    account: owner_account::Model,
) -> DomainResult<()> {
    let scope = Scope { practice_id: account.practice_id };
    let mut client_id = account.client_id;
    if account.email_verified_at.is_none() {
        let own = clients::get_in(txn, scope, client_id).await?;
        if own.pms_id.is_none()
            && let Some(target) = household_to_join(txn, scope, &account.email, own.id).await?
        {
            clients::merge_into(txn, &own, &target).await?;
            client_id = target.id;
        }
        let mut active = account.into_active_model();
        active.email_verified_at = Set(Some(platform.clock.now()));
        active.update(txn).await?;
        loyalty::grant_app_download(txn, platform, scope, client_id).await?;
        // The household can chat from now on: its conversation exists, so
        // the app's reads and staff name the same one (reads make nothing).
        conversations::of_household(txn, platform, scope, client_id).await?;
    }
    clients::refresh_listings(txn, platform, scope, &[client_id]).await
}

/// Sends a new verification link to the account's address.
pub async fn resend_verification(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<()> {
    let account = account(&platform.db, principal).await?;
    if account.email_verified_at.is_some() {
        return Err(DomainError::from(Code::AlreadyVerified));
    }
    let practice = practices::get(platform, principal.scope()).await?;
    send_link(&platform.db, platform, &practice, &account, VERIFY_EMAIL, &account.email).await
}

async fn account(conn: &impl ConnectionTrait, principal: &OwnerPrincipal) -> DomainResult<owner_account::Model> {
    owner_account::Entity::find_by_id(principal.account_id).one(conn).await?.ok_or(DomainError::NotFound)
}

/// Logs an owner in. Unknown email and wrong password get the same answer
/// after the same work; a disabled account is told so only with the right password.
pub async fn log_in(
    platform: &Platform,
    origin: &Origin,
    practice_code: &str,
    email: &str,
    password: &str,
) -> DomainResult<Tokens> {
    let rejected = || DomainError::from(Code::InvalidCredentials);
    if !platform.login_throttle.allow(origin.ip.as_deref()) {
        return Err(DomainError::from(Code::TooManyLoginAttempts));
    }
    let practice = practices::find_by_slug(platform, practice_code).await?;
    let email = Email::parse(email).ok().map(|e| e.as_str().to_lowercase());
    let account = match (&practice, &email) {
        (Some(p), Some(e)) => find_account(&platform.db, Scope { practice_id: p.id }, e).await?,
        _ => None,
    };
    let verdict = platform.passwords.verify(password, account.as_ref().map(|a| a.password_hash.as_str())).await?;
    let Some(account) = account.filter(|_| verdict != Verified::No) else {
        return Err(rejected());
    };
    if account.disabled_at.is_some() {
        return Err(DomainError::from(Code::AccountDisabled));
    }
    let txn = platform.begin_write().await?;
    let mut active = account.clone().into_active_model();
    active.last_login_at = Set(Some(platform.clock.now()));
    if let Verified::YesRehashed(hash) = verdict {
        active.password_hash = Set(hash);
    }
    active.update(&txn).await?;
    let tokens = open_session(&txn, platform, &account).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// How long a refresh token used once may be used again for the same
/// answer: an app that refreshes from two places at once (a resumed
/// screen and a background task) stays signed in.
pub const REFRESH_GRACE_SECONDS: i64 = 10;

/// The pair a refresh token is exchanged for: derived from the presented
/// token under the server's key, so a second use within the grace window
/// gets the very same pair without the server keeping any token in the
/// clear. Without the token (which is stored hashed) nobody can derive it.
fn successor(key: &[u8], refresh_token: &str) -> DomainResult<(String, String)> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use hmac::{Hmac, Mac};
    let derive = |what: &[u8]| -> DomainResult<String> {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(key).map_err(|err| DomainError::Unexpected(err.to_string()))?;
        mac.update(what);
        mac.update(refresh_token.as_bytes());
        Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    };
    Ok((derive(b"refresh-rotation:access:")?, derive(b"refresh-rotation:refresh:")?))
}

/// Exchanges a refresh token for new tokens. Used again within
/// [`REFRESH_GRACE_SECONDS`], it answers the same pair; used again later,
/// it means it leaked: the whole session (its family) is revoked.
pub async fn refresh(platform: &Platform, refresh_token: &str) -> DomainResult<Tokens> {
    let unauthorized = || DomainError::from(Code::InvalidRefreshToken);
    let refresh_token = refresh_token.trim();
    let now = platform.clock.now();
    let key = links::link_key(platform).await?;
    let (access_token, next_refresh) = successor(&key, refresh_token)?;
    let txn = platform.begin_write().await?;
    let row = owner_refresh_token::Entity::find()
        .filter(owner_refresh_token::Column::TokenHash.eq(tokens::token_hash(refresh_token)))
        .one(&txn)
        .await?
        .ok_or_else(unauthorized)?;
    let session = owner_session::Entity::find_by_id(row.session_id).one(&txn).await?.ok_or_else(unauthorized)?;
    let account = owner_account::Entity::find_by_id(session.account_id).one(&txn).await?.ok_or_else(unauthorized)?;
    if session.revoked_at.is_some() || row.expires_at <= now {
        return Err(unauthorized());
    }
    if account.disabled_at.is_some() {
        return Err(DomainError::from(Code::AccountDisabled));
    }
    let claimed = owner_refresh_token::Entity::update_many()
        .col_expr(owner_refresh_token::Column::UsedAt, Expr::value(now))
        .filter(owner_refresh_token::Column::Id.eq(row.id))
        .filter(owner_refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Used before: the same answer within the grace window, while it is
        // still the session's latest exchange; otherwise a leak.
        // Read again: on PostgreSQL the exchange that used it may have
        // committed after this transaction first read the session.
        let session = owner_session::Entity::find_by_id(session.id).one(&txn).await?.ok_or_else(unauthorized)?;
        let used_at = owner_refresh_token::Entity::find_by_id(row.id).one(&txn).await?.and_then(|r| r.used_at);
        let within_grace = used_at.is_some_and(|at| now - at <= Duration::seconds(REFRESH_GRACE_SECONDS));
        let latest = owner_refresh_token::Entity::find()
            .filter(owner_refresh_token::Column::TokenHash.eq(tokens::token_hash(&next_refresh)))
            .filter(owner_refresh_token::Column::UsedAt.is_null())
            .one(&txn)
            .await?;
        if let Some(latest) = latest.filter(|_| {
            within_grace && session.revoked_at.is_none() && session.access_hash == tokens::token_hash(&access_token)
        }) {
            return Ok(Tokens {
                access_token,
                access_expires_at: session.access_expires_at,
                refresh_token: next_refresh,
                refresh_expires_at: latest.expires_at,
            });
        }
        // Reuse: end the family, here and on every instance.
        revoke_session(&txn, platform, &session).await?;
        txn.commit().await?;
        platform.invalidate(Invalidation::OwnerSession(session.access_hash)).await;
        return Err(DomainError::from(Code::RefreshTokenReused));
    }
    let old_hash = session.access_hash.clone();
    let mut active = session.into_active_model();
    active.access_hash = Set(tokens::token_hash(&access_token));
    active.access_expires_at = Set(now + Duration::minutes(ACCESS_TTL_MINUTES));
    let session = active.update(&txn).await?;
    let refresh_expires_at = now + Duration::days(REFRESH_TTL_DAYS);
    store_refresh(&txn, platform, session.id, &next_refresh, refresh_expires_at).await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::OwnerSession(old_hash)).await;
    Ok(Tokens {
        access_token,
        access_expires_at: session.access_expires_at,
        refresh_token: next_refresh,
        refresh_expires_at,
    })
}

async fn revoke_session(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    session: &owner_session::Model,
) -> DomainResult<()> {
    owner_session::Entity::update_many()
        .col_expr(owner_session::Column::RevokedAt, Expr::value(platform.clock.now()))
        .filter(owner_session::Column::Id.eq(session.id))
        .exec(conn)
        .await?;
    owner_device::Entity::delete_many().filter(owner_device::Column::SessionId.eq(session.id)).exec(conn).await?;
    Ok(())
}

/// Who an access token belongs to.
pub async fn authenticate(platform: &Platform, access_token: &str) -> DomainResult<OwnerPrincipal> {
    let unauthorized = || DomainError::from(Code::InvalidAccessToken);
    let hash = tokens::token_hash(access_token);
    let now = platform.clock.now();
    if let Some(cached) = platform.caches.owner_sessions.get(&hash) {
        return if cached.expires_at > now { Ok(cached) } else { Err(DomainError::from(Code::AccessTokenExpired)) };
    }
    let session = owner_session::Entity::find()
        .filter(owner_session::Column::AccessHash.eq(hash.as_str()))
        .filter(owner_session::Column::RevokedAt.is_null())
        .one(&platform.db)
        .await?
        .ok_or_else(unauthorized)?;
    let account = owner_account::Entity::find_by_id(session.account_id)
        .one(&platform.db)
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or_else(unauthorized)?;
    if session.access_expires_at <= now {
        return Err(DomainError::from(Code::AccessTokenExpired));
    }
    let principal = OwnerPrincipal {
        account_id: account.id,
        practice_id: account.practice_id,
        session_id: session.id,
        verified: account.email_verified_at.is_some(),
        access_hash: hash.clone(),
        expires_at: session.access_expires_at,
    };
    platform.caches.owner_sessions.insert(hash, principal.clone());
    Ok(principal)
}

/// Ends this app session and drops the device tokens it registered.
pub async fn log_out(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<()> {
    let session = owner_session::Entity::find_by_id(principal.session_id)
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let txn = platform.begin_write().await?;
    revoke_session(&txn, platform, &session).await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::OwnerSession(principal.access_hash.clone())).await;
    Ok(())
}

/// Forgets cached copies of an account's sessions everywhere (after a change
/// to the account that its principal carries).
async fn forget_account_sessions(platform: &Platform, account_id: Uuid) -> DomainResult<()> {
    let sessions =
        owner_session::Entity::find().filter(owner_session::Column::AccountId.eq(account_id)).all(&platform.db).await?;
    for session in sessions {
        platform.invalidate(Invalidation::OwnerSession(session.access_hash)).await;
    }
    Ok(())
}

async fn revoke_account_sessions(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    account_id: Uuid,
) -> DomainResult<()> {
    for session in owner_session::Entity::find()
        .filter(owner_session::Column::AccountId.eq(account_id))
        .filter(owner_session::Column::RevokedAt.is_null())
        .all(conn)
        .await?
    {
        revoke_session(conn, platform, &session).await?;
    }
    Ok(())
}

/// Emails a reset link if the address has an account; answers the same either way.
pub async fn request_password_reset(
    platform: &Platform,
    origin: &Origin,
    practice_code: &str,
    email: &str,
) -> DomainResult<()> {
    if !platform.login_throttle.allow(origin.ip.as_deref()) {
        return Err(DomainError::from(Code::TooManyAttempts));
    }
    let Some(practice) = practices::find_by_slug(platform, practice_code).await? else { return Ok(()) };
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    let email = email.as_str().to_lowercase();
    if let Some(account) = find_account(&platform.db, Scope { practice_id: practice.id }, &email).await? {
        send_link(&platform.db, platform, &practice, &account, RESET_PASSWORD, &email).await?;
    }
    Ok(())
}

/// Sets a new password from a reset link; every session of the account ends.
pub async fn reset_password(platform: &Platform, token: &str, new_password: &str) -> DomainResult<()> {
    let txn = platform.begin_write().await?;
    let (_, account) = take_email_token(&txn, platform, token, RESET_PASSWORD).await?;
    let local = account.email.split('@').next().unwrap_or_default().to_owned();
    passwords::check_strength(new_password, &[&local])?;
    let hash = platform.passwords.hash(new_password).await?;
    let account_id = account.id;
    let mut active = account.into_active_model();
    active.password_hash = Set(hash);
    active.update(&txn).await?;
    revoke_account_sessions(&txn, platform, account_id).await?;
    txn.commit().await?;
    forget_account_sessions(platform, account_id).await
}

/// Changes the account's email (the password confirms it). The account is
/// unverified until the new address is verified.
pub async fn change_email(
    platform: &Platform,
    principal: &OwnerPrincipal,
    new_email: &str,
    password: &str,
) -> DomainResult<()> {
    let current = account(&platform.db, principal).await?;
    if platform.passwords.verify(password, Some(&current.password_hash)).await? == Verified::No {
        return Err(DomainError::from(Code::InvalidCredentials));
    }
    let email = Email::parse(new_email)?.as_str().to_lowercase();
    if email == current.email {
        return Ok(());
    }
    let practice = practices::get(platform, principal.scope()).await?;
    let txn = platform.begin_write().await?;
    if find_account(&txn, principal.scope(), &email).await?.is_some() {
        return Err(DomainError::from(Code::AccountExists));
    }
    let mut active = current.into_active_model();
    active.email = Set(email.clone());
    active.email_verified_at = Set(None);
    let account = active.update(&txn).await?;
    // A household the PMS does not know is known by its account's address.
    client::Entity::update_many()
        .col_expr(client::Column::Email, Expr::value(email.clone()))
        .filter(client::Column::Id.eq(account.client_id))
        .filter(client::Column::PmsId.is_null())
        .exec(&txn)
        .await?;
    send_link(&txn, platform, &practice, &account, VERIFY_EMAIL, &email).await?;
    clients::refresh_listings(&txn, platform, principal.scope(), &[account.client_id]).await?;
    txn.commit().await?;
    forget_account_sessions(platform, account.id).await
}

/// Deletes the account and its personal data at the owner's request. An
/// app-only household goes with it; a PMS client stays the practice's
/// record. The activity log keeps that it happened, without personal data.
pub async fn delete_account(
    platform: &Platform,
    principal: &OwnerPrincipal,
    password: &str,
    origin: &Origin,
) -> DomainResult<()> {
    let current = account(&platform.db, principal).await?;
    if platform.passwords.verify(password, Some(&current.password_hash)).await? == Verified::No {
        return Err(DomainError::from(Code::InvalidCredentials));
    }
    let scope = principal.scope();
    let txn = platform.begin_write().await?;
    let sessions = remove_account(&txn, platform, scope, &current).await?;
    Entry::new("owner.account_deleted", &Actor::system("owner request"), origin)
        .target("owner_account", current.id)
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    forget_sessions(platform, sessions).await;
    Ok(())
}

/// Deactivates (or reactivates) a client's app account: a disabled account
/// cannot log in and gets no push or blasts; its sessions end at once.
pub async fn set_disabled(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    client_id: Uuid,
    disabled: bool,
) -> DomainResult<()> {
    let household = clients::get(platform, scope, client_id).await?;
    let account = owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(household.id))
        .one(&platform.db)
        .await?
        .ok_or(DomainError::from(Code::NoAppAccount))?;
    let txn = platform.begin_write().await?;
    let account_id = account.id;
    let mut active = account.into_active_model();
    active.disabled_at = Set(disabled.then(|| platform.clock.now()));
    active.update(&txn).await?;
    if disabled {
        revoke_account_sessions(&txn, platform, account_id).await?;
    }
    let action = if disabled { "client.disable" } else { "client.enable" };
    Entry::new(action, actor, origin).target("client", client_id).record(&txn, platform, scope).await?;
    clients::refresh_listings(&txn, platform, scope, &[client_id]).await?;
    txn.commit().await?;
    forget_account_sessions(platform, account_id).await
}

/// What staff change about an owner on the user dashboard (the green
/// pencil); fields left out stay. For a PMS client, the PMS's next change to
/// the record wins, as with every synced field.
#[derive(Debug, Clone, Default)]
pub struct OwnerEdit {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email: the app account's login too, which must then be verified again.
    pub email: Option<String>,
    /// Phone (connects the texting profile); empty removes it.
    pub phone: Option<String>,
}

/// Staff edit an owner's name, email and phone. A new email on an app
/// account makes it Email Not Verified and sends a verification link.
pub async fn edit_by_staff(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    client_id: Uuid,
    edit: OwnerEdit,
) -> DomainResult<()> {
    let name = |value: Option<String>| -> DomainResult<Option<String>> {
        match value.map(|v| v.trim().to_owned()) {
            Some(v) if v.chars().count() > MAX_NAME_CHARS => {
                Err(DomainError::with(Code::InvalidName, format!("a name has at most {MAX_NAME_CHARS} characters")))
            }
            other => Ok(other),
        }
    };
    let (first_name, last_name) = (name(edit.first_name)?, name(edit.last_name)?);
    let email = edit.email.map(|e| Email::parse(&e).map(|e| e.as_str().to_lowercase())).transpose()?;
    let phone = match edit.phone.map(|p| p.trim().to_owned()) {
        Some(p) if p.is_empty() => Some(None),
        Some(p) => Some(Some(crate::kernel::text::Phone::parse(&p)?.as_str().to_owned())),
        None => None,
    };
    let practice = practices::get(platform, scope).await?;
    let txn = platform.begin_write().await?;
    let household = clients::get_in(&txn, scope, client_id).await?;
    let mut changed = Vec::new();
    let mut row = household.clone().into_active_model();
    if let Some(first) = first_name.filter(|f| *f != household.first_name) {
        row.first_name = Set(first);
        changed.push("first_name");
    }
    if let Some(last) = last_name.filter(|l| *l != household.last_name) {
        row.last_name = Set(last);
        changed.push("last_name");
    }
    if let Some(phone) = phone.filter(|p| *p != household.phone) {
        row.phone = Set(phone);
        changed.push("phone");
    }
    let mut moved_account = None;
    if let Some(email) = email.filter(|e| household.email.as_deref() != Some(e.as_str())) {
        row.email = Set(Some(email.clone()));
        changed.push("email");
        let account =
            owner_account::Entity::find().filter(owner_account::Column::ClientId.eq(household.id)).one(&txn).await?;
        if let Some(account) = account.filter(|a| a.email != email) {
            if find_account(&txn, scope, &email).await?.is_some() {
                return Err(DomainError::from(Code::AccountExists));
            }
            let mut active = account.into_active_model();
            active.email = Set(email.clone());
            active.email_verified_at = Set(None);
            let account = active.update(&txn).await?;
            send_link(&txn, platform, &practice, &account, VERIFY_EMAIL, &email).await?;
            moved_account = Some(account.id);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    row.updated_at = Set(platform.clock.now());
    row.update(&txn).await?;
    // The log says which fields changed, not what they say.
    let entry = Entry::new("client.edited", actor, origin)
        .target("client", client_id)
        .detail(serde_json::json!({ "changed": changed }));
    entry.record(&txn, platform, scope).await?;
    clients::refresh_listings(&txn, platform, scope, &[client_id]).await?;
    txn.commit().await?;
    match moved_account {
        Some(account_id) => forget_account_sessions(platform, account_id).await,
        None => Ok(()),
    }
}

/// What the app shows about its own account.
#[derive(Debug, Clone)]
pub struct Me {
    /// The account.
    pub account: owner_account::Model,
    /// Its household.
    pub client: client::Model,
}

/// The caller's household, read fresh: a sync may have moved the account
/// into the PMS client with its email.
pub async fn household(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<client::Model> {
    let account = account(&platform.db, principal).await?;
    clients::get(platform, principal.scope(), account.client_id).await
}

/// The account and household of the caller.
pub async fn me(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<Me> {
    let account = account(&platform.db, principal).await?;
    let client = clients::get(platform, principal.scope(), account.client_id).await?;
    Ok(Me { account, client })
}

/// What kind of identifier an app registers for push.
pub const DEVICE_KINDS: [&str; 2] = ["fcm_token", "fid"];

/// The systems an app registers devices from (read without case).
pub const DEVICE_PLATFORMS: [&str; 2] = ["ios", "android"];

/// The longest push identifier, in bytes.
pub const MAX_DEVICE_TOKEN_BYTES: usize = 4096;

/// Registers a push identifier for this device (moving it here if another
/// account had it: a device has one owner at a time). `kind` is
/// `fcm_token` (an FCM registration token) or `fid` (a Firebase
/// installation id).
pub async fn register_device(
    platform: &Platform,
    principal: &OwnerPrincipal,
    token: &str,
    os: &str,
    kind: &str,
) -> DomainResult<()> {
    let Some(kind) = DEVICE_KINDS.into_iter().find(|k| *k == kind.trim()) else {
        return Err(DomainError::with(Code::InvalidDeviceKind, "kind is fcm_token or fid"));
    };
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_DEVICE_TOKEN_BYTES {
        return Err(DomainError::with(
            Code::InvalidDeviceToken,
            format!("a device token has 1 to {MAX_DEVICE_TOKEN_BYTES} characters"),
        ));
    }
    let Some(os) = DEVICE_PLATFORMS.into_iter().find(|known| known.eq_ignore_ascii_case(os.trim())) else {
        return Err(DomainError::with(Code::InvalidPlatform, "platform is ios or android"));
    };
    let txn = platform.begin_write().await?;
    owner_device::Entity::delete_many().filter(owner_device::Column::Token.eq(token)).exec(&txn).await?;
    owner_device::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(principal.account_id),
        session_id: Set(Some(principal.session_id)),
        token: Set(token.to_owned()),
        platform: Set(os.to_owned()),
        kind: Set(kind.to_owned()),
        created_at: Set(platform.clock.now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Drops one of the caller's push tokens.
pub async fn drop_device(platform: &Platform, principal: &OwnerPrincipal, token: &str) -> DomainResult<()> {
    let gone = owner_device::Entity::delete_many()
        .filter(owner_device::Column::AccountId.eq(principal.account_id))
        .filter(owner_device::Column::Token.eq(token.trim()))
        .exec(&platform.db)
        .await?;
    if gone.rows_affected == 0 { Err(DomainError::NotFound) } else { Ok(()) }
}

/// Forgets a push identifier the push service says is gone (the app was
/// uninstalled, or the token is not valid), whoever had it.
pub async fn forget_device(platform: &Platform, token: &str) -> DomainResult<u64> {
    let gone =
        owner_device::Entity::delete_many().filter(owner_device::Column::Token.eq(token)).exec(&platform.db).await?;
    Ok(gone.rows_affected)
}

/// The caller's push tokens.
pub async fn devices(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<Vec<owner_device::Model>> {
    Ok(owner_device::Entity::find()
        .filter(owner_device::Column::AccountId.eq(principal.account_id))
        .all(&platform.db)
        .await?)
}

/// The household's pets the app shows, with their open reminders.
pub async fn pets(platform: &Platform, principal: &OwnerPrincipal) -> DomainResult<Vec<PetDetail>> {
    principal.require_verified()?;
    let household = household(platform, principal).await?;
    let now = platform.clock.now();
    Ok(clients::household_pets(&platform.db, principal.scope(), &household, now)
        .await?
        .into_iter()
        .filter(|p| p.in_app)
        .collect())
}

/// A pet the owner adds in the app.
#[derive(Debug, Clone)]
pub struct NewPet {
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Sex.
    pub sex: Option<String>,
    /// Date of birth (with the name, how it merges with the PMS's record).
    pub date_of_birth: Option<NaiveDate>,
}

/// Adds a pet of the owner's own; it merges into the PMS pet with the same
/// name and date of birth at the next sync.
pub async fn add_pet(platform: &Platform, principal: &OwnerPrincipal, new: NewPet) -> DomainResult<pet::Model> {
    principal.require_verified()?;
    let name: String = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::with(Code::InvalidName, "a pet's name has 1 to 100 characters"));
    }
    let clean = |v: Option<String>| v.map(|t| t.trim().chars().take(100).collect::<String>()).filter(|t| !t.is_empty());
    let now = platform.clock.now();
    let scope = principal.scope();
    let household = household(platform, principal).await?;
    let txn = platform.begin_write().await?;
    let row = pet::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(principal.practice_id),
        client_id: Set(household.id),
        pms_id: Set(None),
        pms_updated_at: Set(None),
        name: Set(name),
        species: Set(clean(new.species)),
        breed: Set(clean(new.breed)),
        sex: Set(clean(new.sex)),
        date_of_birth: Set(new.date_of_birth),
        pms_status: Set(pet::PmsStatus::Active),
        status_changed_at: Set(None),
        removed_at: Set(None),
        reinstated_at: Set(None),
        added_by_owner: Set(true),
        owner_notes: Set(None),
        owner_inactive_at: Set(None),
        owner_inactive_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    clients::refresh_listings(&txn, platform, scope, &[household.id]).await?;
    txn.commit().await?;
    Ok(row)
}
