//! Timed reminders, run by the workers during the practice's daytime:
//! past-due health services, tomorrow's appointments and post-visit
//! surveys. Each household gets one message per run however many pets it
//! concerns; each reminder or appointment is brought up once (a notice row
//! records it, so several workers never send it twice); a past-due service
//! whose pet already has an appointment booked is not brought up.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Query};
use uuid::Uuid;

use crate::{
    DomainResult, Platform, Scope,
    db::entities::{appointment, client, notice, owner_account, owner_device, pet, practice, reminder},
    deliveries::outbox::{self, Channel, NewDelivery, Purpose, PushMessage},
    households::preferences,
    kernel::{practice::Practice, text::Phone},
    texting,
};

/// Past-due services are brought up if they fell due this recently (older
/// ones predate the app and would arrive as a flood).
const PAST_DUE_WINDOW_DAYS: i64 = 60;
/// Appointments are brought up this long before they start.
const APPOINTMENT_NOTICE_HOURS: i64 = 24;
/// Surveys go out this long after a completed visit, until the window closes.
const SURVEY_AFTER_HOURS: i64 = 2;
const SURVEY_WINDOW_HOURS: i64 = 72;

/// What brought a household up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    PastDue,
    Appointment,
    Survey,
}

impl Subject {
    fn as_str(self) -> &'static str {
        match self {
            Subject::PastDue => "past_due",
            Subject::Appointment => "appointment",
            Subject::Survey => "survey",
        }
    }

    fn purpose(self) -> Purpose {
        match self {
            Subject::PastDue | Subject::Appointment => Purpose::Reminder,
            Subject::Survey => Purpose::Survey,
        }
    }
}

/// How many households each kind of reminder reached in one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReminderRun {
    /// Households told of past-due services.
    pub past_due: u32,
    /// Households told of an upcoming appointment.
    pub appointments: u32,
    /// Households asked about a visit.
    pub surveys: u32,
}

impl ReminderRun {
    /// Whether anything was sent.
    pub fn is_idle(&self) -> bool {
        self.past_due + self.appointments + self.surveys == 0
    }
}

/// Runs the reminders of every practice where it is daytime now.
pub async fn run_due(platform: &Platform) -> DomainResult<ReminderRun> {
    let now = platform.clock.now();
    let mut run = ReminderRun::default();
    for model in practice::Entity::find().all(&platform.db).await? {
        let practice = Practice::try_from(model)?;
        if texting::sending::next_daytime(now, &practice.time_zone) > now {
            continue;
        }
        run.past_due += past_due(platform, &practice, now).await?;
        run.appointments += upcoming_appointments(platform, &practice, now).await?;
        run.surveys += surveys(platform, &practice, now).await?;
    }
    Ok(run)
}

/// Ids of `subject` already brought up, as a subquery.
fn noticed(subject: Subject) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(notice::Column::SubjectId)
        .from(notice::Entity)
        .and_where(notice::Column::Subject.eq(subject.as_str()))
        .to_owned()
}

async fn past_due(platform: &Platform, practice: &Practice, now: DateTime<Utc>) -> DomainResult<u32> {
    let today = practice.today(now);
    let due = reminder::Entity::find()
        .filter(reminder::Column::PracticeId.eq(practice.id))
        .filter(reminder::Column::Status.eq(reminder::Status::Pending))
        .filter(reminder::Column::DueOn.lt(today))
        .filter(reminder::Column::DueOn.gte(today - Duration::days(PAST_DUE_WINDOW_DAYS)))
        .filter(reminder::Column::Id.not_in_subquery(noticed(Subject::PastDue)))
        .all(&platform.db)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let client_ids: Vec<String> =
        due.iter().map(|r| r.client_pms_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    // A pet with a visit booked (or a household visit with no pet named) needs no reminder.
    let booked: Vec<appointment::Model> = appointment::Entity::find()
        .filter(appointment::Column::PracticeId.eq(practice.id))
        .filter(appointment::Column::Status.eq("scheduled"))
        .filter(appointment::Column::StartsAt.gte(now))
        .filter(appointment::Column::ClientPmsId.is_in(client_ids))
        .all(&platform.db)
        .await?;
    let pets = pets_by_pms_id(platform, practice, due.iter().map(|r| r.pet_pms_id.clone()).collect()).await?;
    let mut lines: BTreeMap<String, Vec<(Uuid, String)>> = BTreeMap::new();
    for reminder in &due {
        let Some(pet) = pets.get(&reminder.pet_pms_id).filter(|pet| pet.pms_status == pet::PmsStatus::Active) else {
            continue;
        };
        let is_booked = booked.iter().any(|a| {
            a.client_pms_id == reminder.client_pms_id
                && a.pet_pms_id.as_deref().is_none_or(|id| id == reminder.pet_pms_id)
        });
        if is_booked {
            continue;
        }
        let line =
            format!("{} is past due for {} (due {})", pet.name, reminder.service, reminder.due_on.format("%b %-d"));
        lines.entry(reminder.client_pms_id.clone()).or_default().push((reminder.id, line));
    }
    let mut reached = 0;
    for (client_pms_id, items) in lines {
        let text = format!(
            "{}: {}. Request an appointment in the app or call us to book.",
            practice.name,
            items.iter().map(|(_, line)| line.as_str()).collect::<Vec<_>>().join("; ")
        );
        let subjects: Vec<Uuid> = items.iter().map(|(id, _)| *id).collect();
        reached += u32::from(notify(platform, practice, &client_pms_id, Subject::PastDue, &subjects, &text).await?);
    }
    Ok(reached)
}

async fn upcoming_appointments(platform: &Platform, practice: &Practice, now: DateTime<Utc>) -> DomainResult<u32> {
    let soon = appointment::Entity::find()
        .filter(appointment::Column::PracticeId.eq(practice.id))
        .filter(appointment::Column::Status.eq("scheduled"))
        .filter(appointment::Column::StartsAt.gt(now))
        .filter(appointment::Column::StartsAt.lte(now + Duration::hours(APPOINTMENT_NOTICE_HOURS)))
        .filter(appointment::Column::Id.not_in_subquery(noticed(Subject::Appointment)))
        .all(&platform.db)
        .await?;
    visits(platform, practice, soon, Subject::Appointment).await
}

async fn surveys(platform: &Platform, practice: &Practice, now: DateTime<Utc>) -> DomainResult<u32> {
    let visited = appointment::Entity::find()
        .filter(appointment::Column::PracticeId.eq(practice.id))
        .filter(appointment::Column::Status.eq(appointment::Status::Completed))
        .filter(appointment::Column::StartsAt.lte(now - Duration::hours(SURVEY_AFTER_HOURS)))
        .filter(appointment::Column::StartsAt.gt(now - Duration::hours(SURVEY_WINDOW_HOURS)))
        .filter(appointment::Column::Id.not_in_subquery(noticed(Subject::Survey)))
        .all(&platform.db)
        .await?;
    visits(platform, practice, visited, Subject::Survey).await
}

/// One message per household for its appointments (upcoming, or visited for a survey).
async fn visits(
    platform: &Platform,
    practice: &Practice,
    appointments: Vec<appointment::Model>,
    subject: Subject,
) -> DomainResult<u32> {
    if appointments.is_empty() {
        return Ok(0);
    }
    let pets =
        pets_by_pms_id(platform, practice, appointments.iter().filter_map(|a| a.pet_pms_id.clone()).collect()).await?;
    let mut by_household: BTreeMap<String, Vec<&appointment::Model>> = BTreeMap::new();
    for appointment in &appointments {
        by_household.entry(appointment.client_pms_id.clone()).or_default().push(appointment);
    }
    let mut reached = 0;
    for (client_pms_id, visits) in by_household {
        let described: Vec<String> = visits
            .iter()
            .map(|a| {
                let local = a.starts_at.with_timezone(&practice.time_zone);
                let pet = a.pet_pms_id.as_ref().and_then(|id| pets.get(id)).map_or("your pet", |p| p.name.as_str());
                match subject {
                    Subject::Survey => format!("{pet}'s visit on {}", local.format("%b %-d")),
                    _ => format!("{pet} on {} at {}", local.format("%a %b %-d"), local.format("%-I:%M %p")),
                }
            })
            .collect();
        let text = match subject {
            Subject::Survey => format!(
                "{}: how was {}? Reply with a number from 1 (poor) to 5 (great); we read every answer.",
                practice.name,
                described.join(" and ")
            ),
            _ => format!(
                "{}: a reminder of your appointment for {}. Reply or write in the app if you need to change it.",
                practice.name,
                described.join(", ")
            ),
        };
        let subjects: Vec<Uuid> = visits.iter().map(|a| a.id).collect();
        reached += u32::from(notify(platform, practice, &client_pms_id, subject, &subjects, &text).await?);
    }
    Ok(reached)
}

async fn pets_by_pms_id(
    platform: &Platform,
    practice: &Practice,
    ids: HashSet<String>,
) -> DomainResult<HashMap<String, pet::Model>> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut pets = HashMap::new();
    for chunk in ids.chunks(400) {
        for pet in pet::Entity::find()
            .filter(pet::Column::PracticeId.eq(practice.id))
            .filter(pet::Column::PmsId.is_in(chunk.to_vec()))
            .all(&platform.db)
            .await?
        {
            if let Some(id) = pet.pms_id.clone() {
                pets.insert(id, pet);
            }
        }
    }
    Ok(pets)
}

/// Records the notices and queues the household's one message, on the
/// channel it can be reached by (the app, a text, an email) that its
/// preferences allow; the workers check the preferences again at send
/// time. Returns whether a message was queued. A notice another worker
/// wrote first rolls the whole household back.
async fn notify(
    platform: &Platform,
    practice: &Practice,
    client_pms_id: &str,
    subject: Subject,
    subject_ids: &[Uuid],
    text: &str,
) -> DomainResult<bool> {
    let Some(household) = client::Entity::find()
        .filter(client::Column::PracticeId.eq(practice.id))
        .filter(client::Column::PmsId.eq(client_pms_id))
        .filter(client::Column::PmsActive.eq(true))
        .one(&platform.db)
        .await?
    else {
        return Ok(false);
    };
    let now = platform.clock.now();
    let txn = platform.begin_write().await?;
    for id in subject_ids {
        let written = notice::ActiveModel {
            id: Set(Uuid::new_v4()),
            practice_id: Set(practice.id),
            client_id: Set(household.id),
            subject: Set(subject.as_str().to_owned()),
            subject_id: Set(*id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await;
        if written.is_err() {
            // Another worker brought it up first.
            return Ok(false);
        }
    }
    let queued = queue(&txn, platform, practice, &household, subject, text).await?;
    txn.commit().await?;
    Ok(queued)
}

async fn queue(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    practice: &Practice,
    household: &client::Model,
    subject: Subject,
    text: &str,
) -> DomainResult<bool> {
    let scope = Scope { practice_id: practice.id };
    let prefs = preferences::get_in(conn, scope, household.id).await?;
    let purpose = subject.purpose();
    let reason = match subject {
        Subject::PastDue => "past-due service reminder",
        Subject::Appointment => "appointment reminder",
        Subject::Survey => "post-visit survey",
    };
    let account = owner_account::Entity::find()
        .filter(owner_account::Column::ClientId.eq(household.id))
        .filter(owner_account::Column::DisabledAt.is_null())
        .one(conn)
        .await?;
    if let Some(account) = account.filter(|_| prefs.push && subject != Subject::Survey) {
        let has_device = owner_device::Entity::find()
            .filter(owner_device::Column::AccountId.eq(account.id))
            .one(conn)
            .await?
            .is_some();
        if has_device {
            let message = PushMessage {
                title: format!("Reminder from {}", practice.name),
                body: text.to_owned(),
                data: serde_json::Map::from_iter([("kind".to_owned(), subject.as_str().into())]),
                image_url: None,
                reason: reason.to_owned(),
                purpose,
                not_before: None,
                sealed: None,
            };
            outbox::enqueue_push(conn, platform, scope, account.id, message).await?;
            return Ok(true);
        }
    }
    let phone = household.phone.as_deref().and_then(|raw| Phone::parse(raw).ok());
    let reachable_by_text = match &phone {
        Some(phone) if prefs.two_way_texts => {
            !texting::opt_outs::is_opted_out(platform, practice.id, phone.as_str()).await?
        }
        _ => false,
    };
    if let Some(phone) = phone.filter(|_| reachable_by_text) {
        let text = texting::sending::NewText {
            to: phone,
            body: text.to_owned(),
            reason: reason.to_owned(),
            urgent: false,
            purpose,
            client_id: Some(household.id),
        };
        texting::sending::enqueue(conn, platform, practice, text).await?;
        return Ok(true);
    }
    if let Some(email) = household.email.as_ref().filter(|_| prefs.email) {
        let new = NewDelivery {
            channel: Channel::Email,
            recipient: email.clone(),
            subject: Some(match subject {
                Subject::Survey => format!("How was your visit to {}?", practice.name),
                _ => format!("A reminder from {}", practice.name),
            }),
            body: format!(
                "Hello {},\n\n{text}\n",
                if household.first_name.is_empty() { "there" } else { &household.first_name }
            ),
            data: serde_json::json!({ "template": subject.as_str() }),
            reason: reason.to_owned(),
            purpose,
            client_id: Some(household.id),
            not_before: None,
            sealed: None,
        };
        outbox::enqueue(conn, platform, scope, new).await?;
        return Ok(true);
    }
    Ok(false)
}
