//! Clients and their pets in the staff API: the Users list and export,
//! details, invitations, preferences, disabling, notes, pets leaving and
//! returning to the app.

use chrono::{DateTime, NaiveDate, Utc};
use petbridge_domain::{
    Platform,
    db::entities::{appointment, client, pet::PmsStatus},
    households::{
        clients::{
            self, AccountStatus, Audience, ClientDetail, Invitation, ListQuery, ListRow, PetDetail, PetSyncStatus,
            SortKey,
        },
        pets,
        preferences::{self, ChangedBy},
    },
    kernel::{
        permissions::Permission,
        text::{MAX_NAME_CHARS, Phone},
    },
    owners::accounts,
};
use petbridge_http::{
    ApiResult,
    fields::{EmailAddress, Limited, Matching, PageSize, Stored, Text},
    preferences::{CommunicationPreferences, PreferencesChange},
    reminders::Reminder,
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::{Json, PlainText},
};
use uuid::Uuid;

use crate::kit::{
    auth::{StaffAuth, authorize},
    responses::{Csv, Done},
    tags::Tag,
};

/// Which clients to list.
#[derive(Debug, Clone, Copy, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum ClientFilter {
    /// Everyone: clients with a transaction in the last 24 months, and everyone invited or with an account.
    #[default]
    All,
    /// Owners who downloaded the app and verified their identity.
    ActiveAppUsers,
}

/// The column to sort by.
#[derive(Debug, Clone, Copy, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum ClientSort {
    /// Last name, first name.
    #[default]
    Name,
    /// Email.
    Email,
    /// Account status.
    AccountStatus,
    /// Account created.
    AccountCreated,
    /// Pet Sync Status.
    PetSyncStatus,
    /// Past due: the earliest open due date first.
    PastDue,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum SortOrder {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// A pet in a Users-list row.
#[derive(Debug, Object)]
pub struct ListedPet {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Whether a health service is past due.
    pub past_due: bool,
}

/// Who a client is and where their app account stands: what the Users
/// list and View Details both show.
#[derive(Debug, Object)]
pub struct ClientSummary {
    /// Id.
    pub id: Uuid,
    /// The PMS's id; absent for households added by an invitation or an app sign-up.
    pub pms_id: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email in the PMS (or given at invitation).
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// The app account's status; absent without account or invitation.
    pub account_status: Option<Stored<AccountStatus>>,
    /// When the account was created or the client invited.
    pub account_created_at: Option<DateTime<Utc>>,
    /// Whether the app shows the household's PMS records.
    pub pet_sync_status: Stored<PetSyncStatus>,
}

impl ClientSummary {
    fn of(client: &client::Model, status: Option<AccountStatus>, pet_sync: PetSyncStatus) -> Self {
        Self {
            id: client.id,
            pms_id: client.pms_id.clone(),
            first_name: client.first_name.clone(),
            last_name: client.last_name.clone(),
            email: client.email.clone(),
            phone: client.phone.clone(),
            account_status: status.map(Stored),
            account_created_at: client.account_created_at,
            pet_sync_status: pet_sync.into(),
        }
    }
}

/// One row of the Users list.
#[derive(Debug, Object)]
pub struct ClientRow {
    /// The client.
    #[oai(flatten)]
    pub client: ClientSummary,
    /// Whether any pet is past due (the list shows a check mark otherwise).
    pub past_due: bool,
    /// The household's pets in the app.
    pub pets: Vec<ListedPet>,
    /// Whether the practice wrote a personal note about this client.
    pub has_personal_note: bool,
}

impl From<ListRow> for ClientRow {
    fn from(row: ListRow) -> Self {
        let past_due = row.past_due();
        Self {
            client: ClientSummary::of(&row.client, row.status, row.pet_sync),
            past_due,
            pets: row
                .pets
                .into_iter()
                .map(|p| ListedPet { id: p.id, name: p.name, species: p.species, past_due: p.past_due })
                .collect(),
            has_personal_note: row.client.personal_note.is_some(),
        }
    }
}

/// A page of the Users list.
#[derive(Debug, Object)]
pub struct ClientPage {
    /// The rows.
    pub items: Vec<ClientRow>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next: Option<String>,
}

/// A pet on View Details.
#[derive(Debug, Object)]
pub struct PetCard {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Species.
    pub species: Option<String>,
    /// Breed.
    pub breed: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// `active`, `inactive` or `deceased` in the PMS.
    pub pms_status: Stored<PmsStatus>,
    /// Added by the owner in the app (not from the PMS).
    pub added_by_owner: bool,
    /// Whether the app shows it now.
    pub in_app: bool,
    /// The owner's notes about it.
    pub owner_notes: Option<String>,
    /// When the owner marked it inactive in the app, if they did.
    pub owner_inactive_at: Option<DateTime<Utc>>,
    /// What the owner said then.
    pub owner_inactive_reason: Option<String>,
    /// Open reminders, earliest first.
    pub reminders: Vec<Reminder>,
}

fn pet_card(detail: PetDetail, today: NaiveDate) -> PetCard {
    PetCard {
        id: detail.pet.id,
        name: detail.pet.name,
        species: detail.pet.species,
        breed: detail.pet.breed,
        date_of_birth: detail.pet.date_of_birth,
        pms_status: detail.pet.pms_status.into(),
        added_by_owner: detail.pet.added_by_owner,
        in_app: detail.in_app,
        owner_notes: detail.pet.owner_notes,
        owner_inactive_at: detail.pet.owner_inactive_at,
        owner_inactive_reason: detail.pet.owner_inactive_reason,
        reminders: Reminder::all_on(detail.reminders, today),
    }
}

/// An upcoming appointment.
#[derive(Debug, Object)]
pub struct Appointment {
    /// When.
    pub starts_at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
    /// The pet's PMS id.
    pub pet_pms_id: Option<String>,
}

impl From<appointment::Model> for Appointment {
    fn from(a: appointment::Model) -> Self {
        Self { starts_at: a.starts_at, reason: a.reason, pet_pms_id: a.pet_pms_id }
    }
}

/// View Details: one client with pets, reminders and appointments.
#[derive(Debug, Object)]
pub struct ClientDetails {
    /// The client.
    #[oai(flatten)]
    pub client: ClientSummary,
    /// The app account's email, when it has one.
    pub app_email: Option<String>,
    /// Active in the PMS.
    pub pms_active: bool,
    /// Pets.
    pub pets: Vec<PetCard>,
    /// Upcoming appointments.
    pub appointments: Vec<Appointment>,
    /// A notification about past-due pets, ready to send; absent when nothing is past due.
    pub past_due_message: Option<String>,
    /// The practice's internal note about this client (never shown to the owner).
    pub personal_note: Option<String>,
}

impl From<ClientDetail> for ClientDetails {
    fn from(detail: ClientDetail) -> Self {
        let today = detail.today;
        Self {
            client: ClientSummary::of(&detail.client, detail.status, detail.pet_sync),
            app_email: detail.account.map(|a| a.email),
            pms_active: detail.client.pms_active,
            pets: detail.pets.into_iter().map(|p| pet_card(p, today)).collect(),
            appointments: detail.appointments.into_iter().map(Appointment::from).collect(),
            past_due_message: detail.past_due_message,
            personal_note: detail.client.personal_note,
        }
    }
}

/// Someone to invite to the app.
#[derive(Debug, Object)]
pub struct NewInvitation {
    /// Their email.
    pub email: Limited<String, EmailAddress>,
    /// First name (needed when no client has this email yet).
    #[oai(default)]
    pub first_name: String,
    /// Last name.
    #[oai(default)]
    pub last_name: String,
}

/// A change to an owner's details; fields left out stay. For a PMS client,
/// the PMS's next change to the record wins.
#[derive(Debug, Object)]
pub struct ClientUpdate {
    /// First name.
    pub first_name: Option<Text<0, { MAX_NAME_CHARS }>>,
    /// Last name.
    pub last_name: Option<Text<0, { MAX_NAME_CHARS }>>,
    /// Email; an app account's login changes too and must be verified again.
    pub email: Option<Limited<String, EmailAddress>>,
    /// Phone, which connects the texting profile; empty removes it.
    pub phone: Option<Limited<String, Matching<Phone>>>,
}

/// A personal note to set.
#[derive(Debug, Object)]
pub struct PersonalNote {
    /// The note; absent or empty removes it.
    pub note: Option<Text<0, { clients::NOTE_MAX_CHARS }>>,
}

/// Created.
#[derive(ApiResponse)]
enum InvitationCreated {
    /// The invited client.
    #[oai(status = 201)]
    Created(Json<ClientDetails>),
}

fn list_query(
    filter: Option<ClientFilter>,
    sort: Option<ClientSort>,
    order: Option<SortOrder>,
    search: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
) -> ListQuery {
    ListQuery {
        audience: match filter.unwrap_or_default() {
            ClientFilter::All => Audience::All,
            ClientFilter::ActiveAppUsers => Audience::ActiveAppUsers,
        },
        sort: match sort.unwrap_or_default() {
            ClientSort::Name => SortKey::Name,
            ClientSort::Email => SortKey::Email,
            ClientSort::AccountStatus => SortKey::AccountStatus,
            ClientSort::AccountCreated => SortKey::AccountCreated,
            ClientSort::PetSyncStatus => SortKey::PetSyncStatus,
            ClientSort::PastDue => SortKey::PastDue,
        },
        descending: matches!(order, Some(SortOrder::Desc)),
        search,
        after,
        limit,
    }
}

/// A pet its owner marked inactive in the app.
#[derive(Debug, Object)]
pub struct InactivatedPet {
    /// The pet.
    pub pet_id: Uuid,
    /// Its name.
    pub name: String,
    /// The household.
    pub client_id: Uuid,
    /// The owner's name.
    pub owner_name: String,
    /// The owner's phone, to reach out.
    pub phone: Option<String>,
    /// What the owner said.
    pub reason: Option<String>,
    /// When.
    pub marked_at: DateTime<Utc>,
}

/// This feature's operations of the staff API.
pub struct HouseholdsApi;

#[OpenApi]
impl HouseholdsApi {
    /// The Users list, one page at a time.
    #[oai(path = "/clients", method = "get", tag = "Tag::Clients", operation_id = "listClients")]
    // poem-openapi takes one argument per query parameter.
    #[allow(clippy::too_many_arguments, reason = "one per query parameter the list takes")]
    async fn list_clients(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        /// `all` (default) or `active_app_users`.
        filter: Query<Option<ClientFilter>>,
        /// The column to sort by (default `name`).
        sort: Query<Option<ClientSort>>,
        /// `asc` (default) or `desc`.
        order: Query<Option<SortOrder>>,
        /// Part of a client's name, email, phone or pet name.
        search: Query<Option<String>>,
        /// The `next` of the previous page.
        after: Query<Option<String>>,
        /// Rows per page, 1–200 (default 50).
        limit: Query<Option<PageSize>>,
    ) -> ApiResult<Json<ClientPage>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let query = list_query(filter.0, sort.0, order.0, search.0, after.0, limit.0.as_deref().copied());
        let page = clients::list(&platform, auth.principal().scope(), &query).await?;
        Ok(Json(ClientPage { items: page.rows.into_iter().map(ClientRow::from).collect(), next: page.next }))
    }
    /// The whole Users list (same filter, search and sort) as CSV.
    #[oai(path = "/clients/export.csv", method = "get", tag = "Tag::Clients", operation_id = "exportClients")]
    async fn export_clients(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        filter: Query<Option<ClientFilter>>,
        sort: Query<Option<ClientSort>>,
        order: Query<Option<SortOrder>>,
        search: Query<Option<String>>,
    ) -> ApiResult<Csv> {
        let who = authorize(&platform, &auth, Permission::ClientsView).await?;
        let query = list_query(filter.0, sort.0, order.0, search.0, None, None);
        let csv = clients::export_csv(&platform, auth.principal().scope(), &who, auth.origin(), &query).await?;
        Ok(Csv::Ok(PlainText(csv), "attachment; filename=\"users.csv\"".to_owned()))
    }
    /// View Details: pets, reminders, appointments and a pre-loaded past-due reminder.
    #[oai(path = "/clients/:id", method = "get", tag = "Tag::Clients", operation_id = "getClient")]
    async fn get_client(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ClientDetails>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        Ok(Json(clients::detail(&platform, auth.principal().scope(), id.0).await?.into()))
    }
    /// Edit the owner's name, email and phone (a new email on an app account
    /// makes it Email Not Verified and sends a verification link).
    #[oai(path = "/clients/:id", method = "patch", tag = "Tag::Clients", operation_id = "updateClient")]
    async fn update_client(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<ClientUpdate>,
    ) -> ApiResult<Json<ClientDetails>> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        let scope = auth.principal().scope();
        let b = body.0;
        let edit = accounts::OwnerEdit {
            first_name: b.first_name.map(Limited::into_inner),
            last_name: b.last_name.map(Limited::into_inner),
            email: b.email.map(Limited::into_inner),
            phone: b.phone.map(Limited::into_inner),
        };
        accounts::edit_by_staff(&platform, scope, &allowed.actor, auth.origin(), id.0, edit).await?;
        Ok(Json(clients::detail(&platform, scope, id.0).await?.into()))
    }
    /// Invite Client: emails an app invitation and adds the client to the list if needed.
    #[oai(path = "/clients/invitations", method = "post", tag = "Tag::Clients", operation_id = "inviteClient")]
    async fn invite_client(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        body: Json<NewInvitation>,
    ) -> ApiResult<InvitationCreated> {
        let allowed = authorize(&platform, &auth, Permission::ClientsInvite).await?;
        let scope = auth.principal().scope();
        let invitation =
            Invitation { email: body.0.email.into_inner(), first_name: body.0.first_name, last_name: body.0.last_name };
        let client = clients::invite(&platform, scope, &allowed.actor, auth.origin(), invitation).await?;
        Ok(InvitationCreated::Created(Json(clients::detail(&platform, scope, client.id).await?.into())))
    }
    /// A client's communication preferences (the same record the owner changes in the app).
    #[oai(
        path = "/clients/:id/preferences",
        method = "get",
        tag = "Tag::Clients",
        operation_id = "getClientPreferences"
    )]
    async fn get_preferences(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        Ok(Json(preferences::get(&platform, auth.principal().scope(), id.0).await?.into()))
    }
    /// Change a client's communication preferences; every sender honours them from the next delivery.
    #[oai(
        path = "/clients/:id/preferences",
        method = "patch",
        tag = "Tag::Clients",
        operation_id = "updateClientPreferences"
    )]
    async fn update_preferences(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PreferencesChange>,
    ) -> ApiResult<Json<CommunicationPreferences>> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        let by = ChangedBy::Staff(&allowed.actor, auth.origin());
        let scope = auth.principal().scope();
        Ok(Json(preferences::update(&platform, scope, id.0, body.0.into(), by).await?.into()))
    }
    /// Deactivate a client's app account: no login, no push, no blasts.
    #[oai(path = "/clients/:id/disable", method = "post", tag = "Tag::Clients", operation_id = "disableClient")]
    async fn disable_client(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        accounts::set_disabled(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0, true).await?;
        Ok(Done::NoContent)
    }
    /// Reactivate a client's app account.
    #[oai(path = "/clients/:id/enable", method = "post", tag = "Tag::Clients", operation_id = "enableClient")]
    async fn enable_client(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Done> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        accounts::set_disabled(&platform, auth.principal().scope(), &allowed.actor, auth.origin(), id.0, false).await?;
        Ok(Done::NoContent)
    }
    /// Set or remove the practice's personal note about a client.
    #[oai(path = "/clients/:id/personal-note", method = "put", tag = "Tag::Clients", operation_id = "setClientNote")]
    async fn set_note(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
        body: Json<PersonalNote>,
    ) -> ApiResult<Json<ClientDetails>> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        let scope = auth.principal().scope();
        clients::set_personal_note(
            &platform,
            scope,
            &allowed.actor,
            auth.origin(),
            id.0,
            body.0.note.as_deref().map(String::as_str),
        )
        .await?;
        Ok(Json(clients::detail(&platform, scope, id.0).await?.into()))
    }
    /// Remove a pet from the app at once (e.g. after a euthanasia).
    #[oai(path = "/pets/:id/remove", method = "post", tag = "Tag::Clients", operation_id = "removePetFromApp")]
    async fn remove_pet(&self, auth: StaffAuth, platform: Data<&Platform>, id: Path<Uuid>) -> ApiResult<Json<PetCard>> {
        self.pet_in_app(auth, platform, id.0, false).await
    }
    /// Bring a pet back into the app (also one the PMS marked deceased or inactive).
    #[oai(path = "/pets/:id/reinstate", method = "post", tag = "Tag::Clients", operation_id = "reinstatePet")]
    async fn reinstate_pet(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<PetCard>> {
        self.pet_in_app(auth, platform, id.0, true).await
    }
    /// Inactivated Pets: pets owners marked inactive in the app, most recent
    /// first, so the practice can reach out.
    #[oai(path = "/inactivated-pets", method = "get", tag = "Tag::Household", operation_id = "listInactivatedPets")]
    async fn inactivated(&self, auth: StaffAuth, platform: Data<&Platform>) -> ApiResult<Json<Vec<InactivatedPet>>> {
        authorize(&platform, &auth, Permission::ClientsView).await?;
        let list = pets::inactivated(&platform, auth.principal().scope(), None).await?;
        Ok(Json(
            list.into_iter()
                .map(|i| InactivatedPet {
                    pet_id: i.pet.id,
                    name: i.pet.name,
                    client_id: i.client.id,
                    owner_name: format!("{} {}", i.client.first_name, i.client.last_name).trim().to_owned(),
                    phone: i.client.phone,
                    reason: i.pet.owner_inactive_reason,
                    marked_at: i.pet.owner_inactive_at.unwrap_or(i.pet.updated_at),
                })
                .collect(),
        ))
    }
}

impl HouseholdsApi {
    async fn pet_in_app(
        &self,
        auth: StaffAuth,
        platform: Data<&Platform>,
        id: Uuid,
        in_app: bool,
    ) -> ApiResult<Json<PetCard>> {
        let allowed = authorize(&platform, &auth, Permission::ClientsEdit).await?;
        let scope = auth.principal().scope();
        let detail = clients::set_pet_in_app(&platform, scope, &allowed.actor, auth.origin(), id, in_app).await?;
        let today = petbridge_domain::practices::get(&platform, scope).await?.today(platform.clock.now());
        Ok(Json(pet_card(detail, today)))
    }
}
