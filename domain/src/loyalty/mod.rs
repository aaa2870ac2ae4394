//! Loyalty paws and rewards. Every paw is a ledger entry that is never
//! changed: staff add paws, the app's first verified login earns the
//! download-the-app paw once, synced invoices earn paws by the practice's
//! rule, a reward request redeems paws, a declined request refunds them, and
//! the Oops stamp reverses a paw given by mistake.
//!
//! Each household's balance is kept on its paw card beside the ledger, and
//! paws leave it only through one conditional update (`balance >= n`), in the
//! same transaction as the entry that explains them: concurrent requests
//! cannot spend a paw twice, and the balance never goes below zero.

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::kernel::text::MAX_NAME_CHARS;
use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    chat::conversations,
    db::entities::{client, invoice, owner_account, paw_card, paw_entry, practice, reward, reward_request},
    households::clients,
    kernel::practice::Practice,
    notifications::{self, NewNotification},
    practices,
};

/// Why paws moved, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// Paws given (Add Paw, the download-the-app paw).
    Earned,
    /// Paws spent on a reward.
    Redeemed,
    /// Paws of a declined request, given back.
    Refunded,
    /// An Oops stamp: a paw given by mistake, taken back.
    Reversed,
}

impl EntryKind {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earned => "earned",
            Self::Redeemed => "redeemed",
            Self::Refunded => "refunded",
            Self::Reversed => "reversed",
        }
    }
}

pub use crate::db::entities::reward_request::Status as RequestStatus;

/// The most paws one entry may add.
pub const MAX_PAWS_PER_ENTRY: i32 = 100;

/// The most paws a reward may cost.
pub const MAX_PAWS_NEEDED: i32 = 10_000;

/// The longest reason given with paws.
pub const MAX_REASON_CHARS: usize = 200;
/// The paws the download-the-app entry gives.
pub const APP_DOWNLOAD_PAWS: i32 = 1;
const APP_DOWNLOAD_KEY: &str = "app_download";

/// A household's paw card: balance, ledger (newest first) and reward requests.
#[derive(Debug, Clone)]
pub struct PawCard {
    /// Paws to spend.
    pub balance: i32,
    /// Every entry, newest first.
    pub entries: Vec<paw_entry::Model>,
    /// Reward requests, newest first.
    pub requests: Vec<reward_request::Model>,
}

impl PawCard {
    /// Whether an earned entry was already taken back by an Oops stamp.
    pub fn reversed(&self, entry_id: Uuid) -> bool {
        self.entries.iter().any(|e| e.reverses_id == Some(entry_id))
    }
}

/// A household's paw card.
pub async fn card(platform: &Platform, scope: Scope, client_id: Uuid) -> DomainResult<PawCard> {
    clients::get(platform, scope, client_id).await?;
    let balance = paw_card::Entity::find_by_id(client_id).one(&platform.db).await?.map_or(0, |c| c.balance);
    let entries = paw_entry::Entity::find()
        .filter(paw_entry::Column::ClientId.eq(client_id))
        .order_by_desc(paw_entry::Column::CreatedAt)
        .order_by_desc(paw_entry::Column::Id)
        .limit(500)
        .all(&platform.db)
        .await?;
    let requests = reward_request::Entity::find()
        .filter(reward_request::Column::ClientId.eq(client_id))
        .order_by_desc(reward_request::Column::CreatedAt)
        .limit(200)
        .all(&platform.db)
        .await?;
    Ok(PawCard { balance, entries, requests })
}

/// A reward request with its household's name.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    /// The request.
    pub request: reward_request::Model,
    /// The household's name.
    pub client_name: String,
}

/// The practice's reward requests waiting for a decision, oldest first.
pub async fn pending_requests(platform: &Platform, scope: Scope) -> DomainResult<Vec<PendingRequest>> {
    let requests = reward_request::Entity::find()
        .filter(reward_request::Column::PracticeId.eq(scope.practice_id))
        .filter(reward_request::Column::Status.eq(RequestStatus::Pending))
        .order_by_asc(reward_request::Column::CreatedAt)
        .limit(500)
        .all(&platform.db)
        .await?;
    let households: HashMap<Uuid, client::Model> = client::Entity::find()
        .filter(client::Column::Id.is_in(requests.iter().map(|r| r.client_id)))
        .all(&platform.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(requests
        .into_iter()
        .map(|request| PendingRequest {
            client_name: households.get(&request.client_id).map(conversations::client_name).unwrap_or_default(),
            request,
        })
        .collect())
}

/// Adds `paws` to the balance (the card is made on first use).
async fn credit(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    paws: i32,
) -> DomainResult<()> {
    let now = platform.clock.now();
    let fresh = paw_card::ActiveModel {
        client_id: Set(client_id),
        practice_id: Set(scope.practice_id),
        balance: Set(0),
        updated_at: Set(now),
    };
    paw_card::Entity::insert(fresh).on_conflict_do_nothing_on([paw_card::Column::ClientId]).exec(conn).await?;
    paw_card::Entity::update_many()
        .col_expr(paw_card::Column::Balance, Expr::col(paw_card::Column::Balance).add(paws))
        .col_expr(paw_card::Column::UpdatedAt, Expr::value(now))
        .filter(paw_card::Column::ClientId.eq(client_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Takes `paws` from the balance if it holds that many; otherwise nothing
/// changes and the answer is `not_enough_paws`. The one place paws leave.
async fn debit(conn: &impl ConnectionTrait, platform: &Platform, client_id: Uuid, paws: i32) -> DomainResult<()> {
    let taken = paw_card::Entity::update_many()
        .col_expr(paw_card::Column::Balance, Expr::col(paw_card::Column::Balance).sub(paws))
        .col_expr(paw_card::Column::UpdatedAt, Expr::value(platform.clock.now()))
        .filter(paw_card::Column::ClientId.eq(client_id))
        .filter(paw_card::Column::Balance.gte(paws))
        .exec(conn)
        .await?;
    if taken.rows_affected == 1 { Ok(()) } else { Err(DomainError::from(Code::NotEnoughPaws)) }
}

/// A ledger entry about to be written.
struct NewEntry<'a> {
    client_id: Uuid,
    paws: i32,
    kind: EntryKind,
    reason: String,
    reverses_id: Option<Uuid>,
    reward_request_id: Option<Uuid>,
    once_key: Option<String>,
    actor: Option<&'a Actor>,
}

async fn write_entry(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    new: NewEntry<'_>,
) -> Result<paw_entry::Model, DbErr> {
    let row = paw_entry::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(new.client_id),
        paws: Set(new.paws),
        kind: Set(new.kind.as_str().to_owned()),
        reason: Set(new.reason),
        reverses_id: Set(new.reverses_id),
        reward_request_id: Set(new.reward_request_id),
        once_key: Set(new.once_key),
        staff_id: Set(new.actor.and_then(|a| a.id)),
        staff_name: Set(new.actor.map(|a| a.name.clone())),
        created_at: Set(platform.clock.now()),
    };
    paw_entry::Entity::insert(row).exec_with_returning(conn).await
}

/// A unique-key clash as the conflict `code`; anything else as it was.
fn clash(err: DbErr, code: Code) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => code.into(),
        _ => err.into(),
    }
}

fn reason_text(reason: Option<&str>, default: &str) -> DomainResult<String> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).unwrap_or(default);
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(DomainError::with(
            Code::InvalidReason,
            format!("a reason has at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_owned())
}

/// Add Paw: staff give a household `paws` (1 to 100).
pub async fn add_paws(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    client_id: Uuid,
    paws: i32,
    reason: Option<&str>,
) -> DomainResult<paw_entry::Model> {
    if !(1..=MAX_PAWS_PER_ENTRY).contains(&paws) {
        return Err(DomainError::with(Code::InvalidPaws, format!("add 1 to {MAX_PAWS_PER_ENTRY} paws at a time")));
    }
    let reason = reason_text(reason, "Paw from the practice")?;
    let txn = platform.begin_write().await?;
    clients::get_in(&txn, scope, client_id).await?;
    credit(&txn, platform, scope, client_id, paws).await?;
    let entry = NewEntry {
        client_id,
        paws,
        kind: EntryKind::Earned,
        reason,
        reverses_id: None,
        reward_request_id: None,
        once_key: None,
        actor: Some(actor),
    };
    let entry = write_entry(&txn, platform, scope, entry).await?;
    let log = Entry::new("loyalty.paws_added", actor, origin)
        .target("client", client_id)
        .detail(serde_json::json!({ "paws": paws, "entry_id": entry.id }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(entry)
}

/// The download-the-app paw, once per household, when an account becomes
/// verified (in the caller's transaction). Says whether it was given now.
pub(crate) async fn grant_app_download(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
) -> DomainResult<bool> {
    let given = paw_entry::Entity::find()
        .filter(paw_entry::Column::ClientId.eq(client_id))
        .filter(paw_entry::Column::OnceKey.eq(APP_DOWNLOAD_KEY))
        .one(conn)
        .await?;
    if given.is_some() {
        return Ok(false);
    }
    credit(conn, platform, scope, client_id, APP_DOWNLOAD_PAWS).await?;
    let entry = NewEntry {
        client_id,
        paws: APP_DOWNLOAD_PAWS,
        kind: EntryKind::Earned,
        reason: "Downloaded the app".into(),
        reverses_id: None,
        reward_request_id: None,
        once_key: Some(APP_DOWNLOAD_KEY.into()),
        actor: None,
    };
    write_entry(conn, platform, scope, entry).await?;
    Ok(true)
}

/// The Oops stamp: takes back an earned entry given by mistake. Refused when
/// the paws are already spent (`paws_already_spent`) or already taken back
/// (`already_reversed`).
pub async fn oops(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    entry_id: Uuid,
) -> DomainResult<paw_entry::Model> {
    let txn = platform.begin_write().await?;
    let given = paw_entry::Entity::find_by_id(entry_id)
        .filter(paw_entry::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if given.kind != EntryKind::Earned.as_str() {
        return Err(DomainError::with(Code::NotAnEarnedPaw, "only paws given can be taken back"));
    }
    let once_key = format!("oops:{}", given.id);
    let taken = paw_entry::Entity::find()
        .filter(paw_entry::Column::ClientId.eq(given.client_id))
        .filter(paw_entry::Column::OnceKey.eq(once_key.as_str()))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(DomainError::from(Code::AlreadyReversed));
    }
    debit(&txn, platform, given.client_id, given.paws).await.map_err(|err| match err {
        DomainError::Failed(code, _) if code.kind() == crate::Kind::Conflict => Code::PawsAlreadySpent.into(),
        other => other,
    })?;
    let entry = NewEntry {
        client_id: given.client_id,
        paws: -given.paws,
        kind: EntryKind::Reversed,
        reason: format!("Oops: {}", given.reason),
        reverses_id: Some(given.id),
        reward_request_id: None,
        once_key: Some(once_key),
        actor: Some(actor),
    };
    let reversal = write_entry(&txn, platform, scope, entry).await.map_err(|e| clash(e, Code::AlreadyReversed))?;
    let log = Entry::new("loyalty.oops", actor, origin)
        .target("client", given.client_id)
        .detail(serde_json::json!({ "paws": given.paws, "entry_id": given.id }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(reversal)
}

/// The practice's rewards, cheapest first; retired ones only when asked.
pub async fn catalogue(platform: &Platform, scope: Scope, with_retired: bool) -> DomainResult<Vec<reward::Model>> {
    let mut query = reward::Entity::find().filter(reward::Column::PracticeId.eq(scope.practice_id));
    if !with_retired {
        query = query.filter(reward::Column::RetiredAt.is_null());
    }
    Ok(query.order_by_asc(reward::Column::PawsNeeded).order_by_asc(reward::Column::Name).all(&platform.db).await?)
}

fn check_reward(name: &str, paws_needed: i32) -> DomainResult<()> {
    if !(1..=MAX_NAME_CHARS).contains(&name.trim().chars().count()) {
        return Err(DomainError::with(Code::InvalidName, "a reward's name has 1 to 100 characters"));
    }
    if !(1..=MAX_PAWS_NEEDED).contains(&paws_needed) {
        return Err(DomainError::with(Code::InvalidPaws, "a reward needs 1 to 10,000 paws"));
    }
    Ok(())
}

/// Adds a reward to the catalogue.
pub async fn create_reward(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    name: &str,
    paws_needed: i32,
) -> DomainResult<reward::Model> {
    check_reward(name, paws_needed)?;
    let txn = platform.begin_write().await?;
    let row = reward::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        name: Set(name.trim().to_owned()),
        paws_needed: Set(paws_needed),
        retired_at: Set(None),
        created_at: Set(platform.clock.now()),
    };
    let row = reward::Entity::insert(row).exec_with_returning(&txn).await?;
    let log = Entry::new("rewards.created", actor, origin)
        .target("reward", row.id)
        .detail(serde_json::json!({ "name": row.name, "paws_needed": paws_needed }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(row)
}

/// Renames or reprices a reward (requests already made keep what they said),
/// or retires it (`retired`: no longer offered) or brings it back.
pub async fn update_reward(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    id: Uuid,
    change: RewardChange,
) -> DomainResult<reward::Model> {
    let txn = platform.begin_write().await?;
    let row = reward::Entity::find_by_id(id)
        .filter(reward::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let name = change.name.unwrap_or_else(|| row.name.clone());
    let paws_needed = change.paws_needed.unwrap_or(row.paws_needed);
    check_reward(&name, paws_needed)?;
    let retired_at = match change.retired {
        Some(true) => row.retired_at.or(Some(platform.clock.now())),
        Some(false) => None,
        None => row.retired_at,
    };
    let mut active = row.into_active_model();
    active.name = Set(name.trim().to_owned());
    active.paws_needed = Set(paws_needed);
    active.retired_at = Set(retired_at);
    let row = active.update(&txn).await?;
    let log = Entry::new("rewards.updated", actor, origin).target("reward", row.id).detail(serde_json::json!({
        "name": row.name, "paws_needed": row.paws_needed, "retired": row.retired_at.is_some()
    }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(row)
}

/// A change to a reward; what is left out stays.
#[derive(Debug, Clone, Default)]
pub struct RewardChange {
    /// A new name.
    pub name: Option<String>,
    /// A new price in paws.
    pub paws_needed: Option<i32>,
    /// Retire it, or offer it again.
    pub retired: Option<bool>,
}

/// A reward request and whether it was made before (a retried call).
#[derive(Debug, Clone)]
pub struct Requested {
    /// The request.
    pub request: reward_request::Model,
    /// It already existed under the id the app chose.
    pub replayed: bool,
}

/// An owner asks for a catalogue reward in the app: its paws are held at
/// once (`not_enough_paws` if the balance is short) until staff decide. The
/// app may choose the request's id, so a retried call makes nothing twice.
pub async fn request_reward(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    reward_id: Uuid,
    request_id: Option<Uuid>,
) -> DomainResult<Requested> {
    let id = request_id.unwrap_or_else(Uuid::new_v4);
    match make_reward_request(platform, scope, client_id, reward_id, id).await {
        // A retry racing the original: the original stands.
        Err(DomainError::Failed(Code::IdInUse, _)) => {
            match reward_request::Entity::find_by_id(id).one(&platform.db).await? {
                Some(existing) if existing.client_id == client_id && existing.practice_id == scope.practice_id => {
                    Ok(Requested { request: existing, replayed: true })
                }
                _ => Err(Code::IdInUse.into()),
            }
        }
        other => other,
    }
}

async fn make_reward_request(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    reward_id: Uuid,
    id: Uuid,
) -> DomainResult<Requested> {
    let txn = platform.begin_write().await?;
    if let Some(existing) = reward_request::Entity::find_by_id(id).one(&txn).await? {
        if existing.client_id != client_id || existing.practice_id != scope.practice_id {
            return Err(DomainError::from(Code::IdInUse));
        }
        return Ok(Requested { request: existing, replayed: true });
    }
    let reward = reward::Entity::find_by_id(reward_id)
        .filter(reward::Column::PracticeId.eq(scope.practice_id))
        .filter(reward::Column::RetiredAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| DomainError::with(Code::UnknownReward, "that reward is not offered"))?;
    debit(&txn, platform, client_id, reward.paws_needed).await?;
    let request = reward_request::ActiveModel {
        id: Set(id),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        reward_id: Set(Some(reward.id)),
        reward_name: Set(reward.name.clone()),
        paws: Set(reward.paws_needed),
        status: Set(RequestStatus::Pending),
        requested_by: Set("owner".into()),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(platform.clock.now()),
    };
    let request =
        reward_request::Entity::insert(request).exec_with_returning(&txn).await.map_err(|e| clash(e, Code::IdInUse))?;
    let entry = NewEntry {
        client_id,
        paws: -reward.paws_needed,
        kind: EntryKind::Redeemed,
        reason: format!("Reward requested: {}", reward.name),
        reverses_id: None,
        reward_request_id: Some(request.id),
        once_key: None,
        actor: None,
    };
    write_entry(&txn, platform, scope, entry).await?;
    txn.commit().await?;
    Ok(Requested { request, replayed: false })
}

/// What staff give with Manually Reward: a catalogue reward, or one named
/// here with its paws.
#[derive(Debug, Clone)]
pub enum ManualReward {
    /// A reward of the catalogue.
    Catalogue(Uuid),
    /// A reward named by staff.
    Named {
        /// Its name.
        name: String,
        /// The paws it takes.
        paws: i32,
    },
}

/// Manually Reward: staff redeem paws for the owner, approved at once.
pub async fn manual_reward(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    client_id: Uuid,
    what: ManualReward,
) -> DomainResult<reward_request::Model> {
    let practice = practices::get(platform, scope).await?;
    let txn = platform.begin_write().await?;
    clients::get_in(&txn, scope, client_id).await?;
    let (reward_id, name, paws) = match what {
        ManualReward::Catalogue(id) => {
            let reward = reward::Entity::find_by_id(id)
                .filter(reward::Column::PracticeId.eq(scope.practice_id))
                .filter(reward::Column::RetiredAt.is_null())
                .one(&txn)
                .await?
                .ok_or_else(|| DomainError::with(Code::UnknownReward, "that reward is not offered"))?;
            (Some(reward.id), reward.name, reward.paws_needed)
        }
        ManualReward::Named { name, paws } => {
            check_reward(&name, paws)?;
            (None, name.trim().to_owned(), paws)
        }
    };
    debit(&txn, platform, client_id, paws).await?;
    let now = platform.clock.now();
    let request = reward_request::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        client_id: Set(client_id),
        reward_id: Set(reward_id),
        reward_name: Set(name.clone()),
        paws: Set(paws),
        status: Set(RequestStatus::Approved),
        requested_by: Set(actor.name.clone()),
        decided_by: Set(Some(actor.name.clone())),
        decided_at: Set(Some(now)),
        created_at: Set(now),
    };
    let request = reward_request::Entity::insert(request).exec_with_returning(&txn).await?;
    let entry = NewEntry {
        client_id,
        paws: -paws,
        kind: EntryKind::Redeemed,
        reason: format!("Reward: {name}"),
        reverses_id: None,
        reward_request_id: Some(request.id),
        once_key: None,
        actor: Some(actor),
    };
    write_entry(&txn, platform, scope, entry).await?;
    let note = NewNotification {
        title: practice.name,
        body: format!("You've been rewarded: {name}. Enjoy!"),
        image_url: None,
        selfie_id: None,
    };
    notifications::deliver(&txn, platform, scope, client_id, &note, actor.id, format!("reward from {}", actor.name))
        .await?;
    let log = Entry::new("loyalty.manual_reward", actor, origin)
        .target("client", client_id)
        .detail(serde_json::json!({ "reward": name, "paws": paws, "request_id": request.id }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(request)
}

/// Staff approve or decline a pending request; a declined one's paws come
/// back. The owner is notified either way. `already_decided` if someone
/// decided it first.
pub async fn decide(
    platform: &Platform,
    scope: Scope,
    actor: &Actor,
    origin: &Origin,
    request_id: Uuid,
    approve: bool,
) -> DomainResult<reward_request::Model> {
    // Read before the write lock: the practice comes through the pool.
    let practice = practices::get(platform, scope).await?;
    let txn = platform.begin_write().await?;
    let request = reward_request::Entity::find_by_id(request_id)
        .filter(reward_request::Column::PracticeId.eq(scope.practice_id))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let status = if approve { RequestStatus::Approved } else { RequestStatus::Declined };
    let now = platform.clock.now();
    let decided = reward_request::Entity::update_many()
        .col_expr(reward_request::Column::Status, Expr::value(status))
        .col_expr(reward_request::Column::DecidedBy, Expr::value(actor.name.clone()))
        .col_expr(reward_request::Column::DecidedAt, Expr::value(now))
        .filter(reward_request::Column::Id.eq(request.id))
        .filter(reward_request::Column::Status.eq(RequestStatus::Pending))
        .exec_with_returning(&txn)
        .await?
        .pop()
        .ok_or(DomainError::from(Code::AlreadyDecided))?;
    let body = if approve {
        format!("Your reward is approved: {}. Show this at the front desk.", request.reward_name)
    } else {
        credit(&txn, platform, scope, request.client_id, request.paws).await?;
        let entry = NewEntry {
            client_id: request.client_id,
            paws: request.paws,
            kind: EntryKind::Refunded,
            reason: format!("Request declined: {}", request.reward_name),
            reverses_id: None,
            reward_request_id: Some(request.id),
            once_key: None,
            actor: Some(actor),
        };
        write_entry(&txn, platform, scope, entry).await?;
        format!(
            "Your request for {} was declined; its {} paw{} are back on your card.",
            request.reward_name,
            request.paws,
            if request.paws == 1 { "" } else { "s" }
        )
    };
    let note = NewNotification { title: practice.name, body, image_url: None, selfie_id: None };
    let reason = format!("reward request {} by {}", status.to_value(), actor.name);
    notifications::deliver(&txn, platform, scope, request.client_id, &note, actor.id, reason).await?;
    let action = if approve { "loyalty.reward_approved" } else { "loyalty.reward_declined" };
    let log = Entry::new(action, actor, origin)
        .target("client", request.client_id)
        .detail(serde_json::json!({ "request_id": request.id, "reward": request.reward_name, "paws": request.paws }));
    log.record(&txn, platform, scope).await?;
    txn.commit().await?;
    Ok(decided)
}

/// What one run of the invoice rule did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InvoicePaws {
    /// Invoices that earned paws.
    pub awarded: u32,
    /// Voided invoices whose paws were taken back.
    pub reversed: u32,
}

/// How far back the invoice rule looks on each run.
const INVOICE_WINDOW_DAYS: i64 = 60;
/// The most paws one invoice earns.
const MAX_INVOICE_PAWS: i64 = 1_000;

/// Paws from synced invoices, for practices with a rule (one paw per so many
/// cents): each invoice of a household with an app account, dated on or
/// after the day the account was made, earns once; a voided invoice's paws
/// are taken back as far as the balance allows. A timed job; several
/// workers may run it at once (each award is claimed by its ledger key).
pub async fn run_invoice_rule(platform: &Platform) -> DomainResult<InvoicePaws> {
    let mut run = InvoicePaws::default();
    let since = platform.clock.now().date_naive() - Duration::days(INVOICE_WINDOW_DAYS);
    for model in practice::Entity::find().all(&platform.db).await? {
        let practice = Practice::try_from(model)?;
        let Some(per_cents) = practice.settings.paw_per_invoiced_cents.filter(|c| *c > 0) else { continue };
        let scope = Scope { practice_id: practice.id };
        let accounts = owner_account::Entity::find()
            .filter(owner_account::Column::PracticeId.eq(practice.id))
            .all(&platform.db)
            .await?;
        for chunk in accounts.chunks(500) {
            let households = client::Entity::find()
                .filter(client::Column::PracticeId.eq(practice.id))
                .filter(client::Column::Id.is_in(chunk.iter().map(|a| a.client_id)))
                .all(&platform.db)
                .await?;
            // The PMS's id of each household → the household and the day it joined the app.
            let joined: HashMap<String, (Uuid, chrono::NaiveDate)> = households
                .iter()
                .filter_map(|c| {
                    let account = chunk.iter().find(|a| a.client_id == c.id)?;
                    Some((c.pms_id.clone()?, (c.id, account.created_at.date_naive())))
                })
                .collect();
            if joined.is_empty() {
                continue;
            }
            let invoices = invoice::Entity::find()
                .filter(invoice::Column::PracticeId.eq(practice.id))
                .filter(invoice::Column::ClientPmsId.is_in(joined.keys().cloned()))
                .filter(invoice::Column::InvoicedOn.gte(since))
                .filter(invoice::Column::TotalCents.is_not_null())
                .all(&platform.db)
                .await?;
            if invoices.is_empty() {
                continue;
            }
            // Only these invoices' keys: the ledger of past awards grows without end.
            let keys = invoices.iter().flat_map(|i| [format!("invoice:{}", i.id), format!("invoice-void:{}", i.id)]);
            let settled: HashSet<String> = paw_entry::Entity::find()
                .filter(paw_entry::Column::ClientId.is_in(joined.values().map(|(id, _)| *id)))
                .filter(paw_entry::Column::OnceKey.is_in(keys))
                .all(&platform.db)
                .await?
                .into_iter()
                .filter_map(|e| e.once_key)
                .collect();
            for found in invoices {
                let Some(&(client_id, joined_on)) = joined.get(&found.client_pms_id) else { continue };
                let (earned_key, void_key) = (format!("invoice:{}", found.id), format!("invoice-void:{}", found.id));
                if found.invoiced_on < joined_on || settled.contains(&void_key) {
                    continue;
                }
                let earned = settled.contains(&earned_key);
                let paws = Ord::min(found.total_cents.unwrap_or(0) / per_cents, MAX_INVOICE_PAWS);
                let paws = i32::try_from(paws).unwrap_or(0);
                if !found.voided && !earned && paws > 0 {
                    if award_invoice(platform, scope, client_id, &found, paws, earned_key).await? {
                        run.awarded += 1;
                    }
                } else if found.voided
                    && earned
                    && take_back_invoice(platform, scope, client_id, &found, void_key).await?
                {
                    run.reversed += 1;
                }
            }
        }
    }
    Ok(run)
}

/// Gives an invoice's paws once; `false` when another worker did first.
async fn award_invoice(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    found: &invoice::Model,
    paws: i32,
    once_key: String,
) -> DomainResult<bool> {
    let txn = platform.begin_write().await?;
    credit(&txn, platform, scope, client_id, paws).await?;
    let entry = NewEntry {
        client_id,
        paws,
        kind: EntryKind::Earned,
        reason: format!("Visit of {}", found.invoiced_on.format("%b %-d, %Y")),
        reverses_id: None,
        reward_request_id: None,
        once_key: Some(once_key),
        actor: None,
    };
    let written = write_entry(&txn, platform, scope, entry).await;
    commit_once(txn, written).await
}

/// Takes back a voided invoice's paws, as many as the balance holds (it never
/// goes below zero); `false` when another worker did first.
async fn take_back_invoice(
    platform: &Platform,
    scope: Scope,
    client_id: Uuid,
    found: &invoice::Model,
    once_key: String,
) -> DomainResult<bool> {
    let txn = platform.begin_write().await?;
    let Some(given) = paw_entry::Entity::find()
        .filter(paw_entry::Column::ClientId.eq(client_id))
        .filter(paw_entry::Column::OnceKey.eq(format!("invoice:{}", found.id)))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    let balance = paw_card::Entity::find_by_id(client_id).one(&txn).await?.map_or(0, |c| c.balance);
    let taken = Ord::max(Ord::min(given.paws, balance), 0);
    if taken > 0 {
        debit(&txn, platform, client_id, taken).await?;
    }
    let entry = NewEntry {
        client_id,
        paws: -taken,
        kind: EntryKind::Reversed,
        reason: format!("Invoice of {} voided", found.invoiced_on.format("%b %-d, %Y")),
        reverses_id: Some(given.id),
        reward_request_id: None,
        once_key: Some(once_key),
        actor: None,
    };
    let written = write_entry(&txn, platform, scope, entry).await;
    commit_once(txn, written).await
}

/// Commits a transaction whose ledger entry has a once-only key; `false`
/// (and nothing kept) when another worker wrote that key first.
async fn commit_once(txn: DatabaseTransaction, written: Result<paw_entry::Model, DbErr>) -> DomainResult<bool> {
    match written.map_err(|e| clash(e, Code::IdInUse)) {
        Ok(_) => {
            txn.commit().await?;
            Ok(true)
        }
        Err(DomainError::Failed(Code::IdInUse, _)) => Ok(false),
        Err(err) => Err(err),
    }
}
