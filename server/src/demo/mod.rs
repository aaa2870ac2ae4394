//! Demo clients for `petbridge demo`: a few hundred households with pets,
//! appointments, reminders and invoices, fed through the same sync the PMS
//! agent uses, and some app accounts in every state, so the Users list looks
//! like a real practice's. The same run twice leaves the same practice.

mod plans;

use anyhow::anyhow;
use chrono::{Duration, Months};
use petbridge_domain::{
    Actor, Code, DomainError, Origin, Platform, Scope,
    db::entities::{owner_account, pet},
    households::{
        clients::{self, Invitation},
        pets,
    },
    kernel::practice::Practice,
    loyalty,
    owners::accounts::{self, SignUp},
    requests::{self, Kind, NewRequest},
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
    selfies,
    sync::{
        self, AppointmentRecord, Batch, ClientRecord, InvoiceLineRecord, InvoiceRecord, PetRecord, ReminderRecord,
        Source,
    },
};

/// Households the demo adds.
const HOUSEHOLDS: u64 = 320;

const FIRST: [&str; 24] = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Mia", "Lucas", "Amelia", "Mateo", "Harper",
    "Ethan", "Evelyn", "Kai", "Aria", "Leo", "Chloe", "Ezra", "Priya", "Hiro", "Fatima", "Diego",
];
const LAST: [&str; 24] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Patel",
    "Nguyen",
    "Kim",
    "Okafor",
];
const PETS: [(&str, &str, &str); 16] = [
    ("Bella", "Dog", "Labrador Retriever"),
    ("Max", "Dog", "German Shepherd"),
    ("Luna", "Cat", "Domestic Shorthair"),
    ("Charlie", "Dog", "Golden Retriever"),
    ("Lucy", "Cat", "Maine Coon"),
    ("Cooper", "Dog", "Beagle"),
    ("Milo", "Cat", "Siamese"),
    ("Daisy", "Dog", "Dachshund"),
    ("Oliver", "Cat", "Ragdoll"),
    ("Sadie", "Dog", "Boxer"),
    ("Pepper", "Rabbit", "Holland Lop"),
    ("Rocky", "Dog", "Bulldog"),
    ("Cleo", "Cat", "Bengal"),
    ("Tucker", "Dog", "Border Collie"),
    ("Kiwi", "Bird", "Cockatiel"),
    ("Nala", "Cat", "Persian"),
];
const SERVICES: [&str; 6] =
    ["Rabies vaccine", "DHPP booster", "Annual wellness exam", "Dental cleaning", "FVRCP booster", "Heartworm test"];

/// A small deterministic generator: the same demo every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.roll(items.len() as u64)).unwrap_or(0)]
    }
}

fn days(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(0)
}

/// The demo's PMS records, dated around `now`.
fn batch(platform: &Platform) -> Batch {
    let now = platform.clock.now();
    let today = now.date_naive();
    let mut dice = Dice(20_261_123);
    let mut batch = Batch::default();
    for n in 0..HOUSEHOLDS {
        let first = *dice.pick(&FIRST);
        let last = *dice.pick(&LAST);
        let client_id = format!("DEMO-C{n:04}");
        // Most visited within two years; a few have lapsed and stay off the list.
        let months_since = if dice.roll(10) == 0 { 25 + dice.roll(12) } else { dice.roll(23) };
        let last_visit =
            today.checked_sub_months(Months::new(u32::try_from(months_since).unwrap_or(0))).unwrap_or(today)
                - Duration::days(days(dice.roll(28)));
        batch.clients.push(ClientRecord {
            pms_id: client_id.clone(),
            updated_at: now,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email: (dice.roll(12) != 0)
                .then(|| format!("{}.{}{n}@example.com", first.to_lowercase(), last.to_lowercase())),
            phone: (dice.roll(5) != 0).then(|| format!("+1303555{:04}", 1000 + n)),
            active: dice.roll(40) != 0,
            last_transaction_on: Some(last_visit),
        });
        for p in 0..=dice.roll(3).min(2) {
            let (name, species, breed) = *dice.pick(&PETS);
            let pet_id = format!("{client_id}-P{p}");
            let born = today - Duration::days(days(200 + dice.roll(14 * 365)));
            let status = match dice.roll(30) {
                0 => "deceased",
                1 => "inactive",
                _ => "active",
            };
            batch.pets.push(PetRecord {
                pms_id: pet_id.clone(),
                updated_at: now - Duration::days(3),
                client_pms_id: client_id.clone(),
                name: name.to_owned(),
                species: Some(species.to_owned()),
                breed: Some(breed.to_owned()),
                sex: Some(if dice.roll(2) == 0 { "Female" } else { "Male" }.to_owned()),
                date_of_birth: Some(born),
                status: status.to_owned(),
            });
            for r in 0..=dice.roll(2) {
                // Due dates from two months ago to four months ahead: some past due.
                let due = today - Duration::days(60) + Duration::days(days(dice.roll(180)));
                batch.reminders.push(ReminderRecord {
                    pms_id: format!("{pet_id}-R{r}"),
                    updated_at: now,
                    client_pms_id: client_id.clone(),
                    pet_pms_id: pet_id.clone(),
                    service: (*dice.pick(&SERVICES)).to_owned(),
                    due_on: due,
                    status: "pending".to_owned(),
                });
            }
            if dice.roll(3) == 0 {
                let starts = now + Duration::days(days(1 + dice.roll(30))) + Duration::hours(days(dice.roll(8)));
                batch.appointments.push(AppointmentRecord {
                    pms_id: format!("{pet_id}-A"),
                    updated_at: now,
                    client_pms_id: client_id.clone(),
                    pet_pms_id: Some(pet_id.clone()),
                    starts_at: starts,
                    reason: Some((*dice.pick(&SERVICES)).to_owned()),
                    status: "scheduled".to_owned(),
                });
            }
            batch.invoices.push(InvoiceRecord {
                pms_id: format!("{pet_id}-I"),
                updated_at: now,
                client_pms_id: client_id.clone(),
                invoiced_on: last_visit,
                voided: false,
                total: Some(f64::from(u32::try_from(45 + dice.roll(400)).unwrap_or(45)) + 0.99),
                lines: vec![InvoiceLineRecord {
                    code: if dice.roll(4) == 0 { "WP-EXAM".to_owned() } else { "EXAM".to_owned() },
                    description: Some("Examination".to_owned()),
                    quantity: 1.0,
                    pet_pms_id: Some(pet_id.clone()),
                    provider: Some("Dr. Rivera".to_owned()),
                    performed_on: None,
                    voided: false,
                }],
            });
        }
    }
    batch
}

fn fail(err: DomainError) -> anyhow::Error {
    anyhow!("{err}")
}

/// Adds the demo households and app accounts. Returns how many clients it synced.
pub async fn fill(platform: &Platform, practice: &Practice) -> anyhow::Result<usize> {
    let scope = Scope { practice_id: practice.id };
    let batch = batch(platform);
    // Owners sign up as the app asks them to: with their names and the address the PMS knows.
    let owners: Vec<(String, String, String)> = batch
        .clients
        .iter()
        .filter_map(|c| c.email.clone().map(|e| (e, c.first_name.clone(), c.last_name.clone())))
        .collect();
    let households = batch.clients.len();
    sync::apply(platform, scope, Source::Import, &batch).await.map_err(fail)?;

    // App accounts: verified, not yet verified, and invitations; and owners
    // who signed up with an address the PMS does not know.
    let password = format!("{} demo owner", petbridge_domain::kernel::tokens::random_password().map_err(fail)?);
    for (n, (email, first, last)) in owners.iter().enumerate().take(60) {
        match n % 6 {
            0..=3 => sign_up(platform, practice, email, (first, last), &password, n % 6 != 3).await?,
            _ => {
                let invitation =
                    Invitation { email: email.clone(), first_name: String::new(), last_name: String::new() };
                match clients::invite(
                    platform,
                    scope,
                    &petbridge_domain::Actor::system("demo"),
                    &Origin::default(),
                    invitation,
                )
                .await
                {
                    Ok(_) | Err(DomainError::Failed(Code::AlreadyAppUser, _)) => {}
                    Err(err) => return Err(fail(err)),
                }
            }
        }
    }
    for (n, first) in FIRST.iter().take(3).enumerate() {
        sign_up(platform, practice, &format!("new.owner{n}@example.com"), (first, "Newcomer"), &password, true).await?;
    }
    owner_app(platform, scope).await?;
    plans::catalogue(platform, scope).await?;
    Ok(households)
}

/// What the rewards catalogue offers.
const REWARDS: [(&str, i32); 4] =
    [("Bag of treats", 3), ("Free nail trim", 5), ("Free bath", 8), ("10% off a dental cleaning", 12)];
const ORDERS: [&str; 4] =
    ["Hill's c/d urinary food, 8.5 lb", "Heartgard Plus, 6 doses", "Apoquel 16 mg, 30 tablets", "Dental chews, large"];
const VISITS: [(&str, &str); 4] = [
    ("Limping on the back left leg", "Tuesday morning"),
    ("Itchy ears", "Any weekday after 4pm"),
    ("Annual check-up", "Saturday"),
    ("Not eating much", "As soon as possible"),
];

/// The owner app's side for the verified households: a reward catalogue,
/// paws, reward requests, orders, appointment requests, selfies and a pet
/// marked inactive. Skipped once the practice has a catalogue, so a second
/// run adds nothing.
async fn owner_app(platform: &Platform, scope: Scope) -> anyhow::Result<()> {
    if !loyalty::catalogue(platform, scope, true).await.map_err(fail)?.is_empty() {
        return Ok(());
    }
    let (actor, origin) = (Actor::system("demo"), Origin::default());
    let mut rewards = Vec::new();
    for (name, paws) in REWARDS {
        rewards.push(loyalty::create_reward(platform, scope, &actor, &origin, name, paws).await.map_err(fail)?);
    }
    let accounts = owner_account::Entity::find()
        .filter(owner_account::Column::PracticeId.eq(scope.practice_id))
        .filter(owner_account::Column::EmailVerifiedAt.is_not_null())
        .order_by_asc(owner_account::Column::Email)
        .all(&platform.db)
        .await?;
    let mut dice = Dice(20_261_202);
    for (n, account) in accounts.iter().enumerate() {
        let household = account.client_id;
        let paws = i32::try_from(2 + dice.roll(12)).unwrap_or(2);
        loyalty::add_paws(platform, scope, &actor, &origin, household, paws, Some("Visit")).await.map_err(fail)?;
        if n % 3 == 0 {
            match loyalty::request_reward(platform, scope, household, rewards[0].id, None).await {
                Ok(_) | Err(DomainError::Failed(Code::NotEnoughPaws, _)) => {}
                Err(err) => return Err(fail(err)),
            }
        }
        let in_app = pet::Entity::find()
            .filter(pet::Column::ClientId.eq(household))
            .filter(pet::Column::PmsStatus.eq(pet::PmsStatus::Active))
            .filter(pet::Column::RemovedAt.is_null())
            .order_by_asc(pet::Column::Name)
            .all(&platform.db)
            .await?;
        let Some(first) = in_app.first() else { continue };
        if n % 2 == 0 {
            let new = NewRequest {
                id: None,
                kind: Kind::Order,
                pet_id: Some(first.id),
                details: (*dice.pick(&ORDERS)).to_owned(),
                preferred_times: Vec::new(),
            };
            requests::make(platform, scope, household, new).await.map_err(fail)?;
        }
        if n % 3 == 1 {
            let (reason, when) = *dice.pick(&VISITS);
            let new = NewRequest {
                id: None,
                kind: Kind::Appointment,
                pet_id: Some(first.id),
                details: reason.to_owned(),
                preferred_times: vec![when.to_owned()],
            };
            requests::make(platform, scope, household, new).await.map_err(fail)?;
        }
        if n % 4 == 0 {
            let photo = demo_photo(n).map_err(|err| anyhow!("demo photo: {err}"))?;
            let selfie =
                selfies::upload(platform, scope, household, Some(first.id), photo.into()).await.map_err(fail)?;
            if n % 8 == 0 {
                let marks = selfies::Marks { starred: Some(true), hearted: Some(n % 16 == 0) };
                selfies::mark(platform, scope, &actor, &origin, selfie.id, marks).await.map_err(fail)?;
            }
        }
        if n == 5 {
            let reason = Some("She passed away peacefully at home last week.");
            pets::set_inactive(platform, scope, household, first.id, true, reason).await.map_err(fail)?;
        }
    }
    Ok(())
}

/// A colourful square PNG standing in for a pet's photo.
fn demo_photo(n: usize) -> Result<Vec<u8>, image::ImageError> {
    let hue = u8::try_from((n * 37) % 256).unwrap_or(0);
    let picture = image::RgbImage::from_fn(480, 480, |x, y| {
        let (dx, dy) = (f64::from(x) - 240.0, f64::from(y) - 260.0);
        if dx * dx + dy * dy < 120.0 * 120.0 {
            image::Rgb([250, 214, 165])
        } else {
            image::Rgb([hue, u8::try_from(y / 2).unwrap_or(0), 200 - u8::try_from(x / 3).unwrap_or(0)])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// Signs an owner up (once), with its address proved if asked.
async fn sign_up(
    platform: &Platform,
    practice: &Practice,
    email: &str,
    (first_name, last_name): (&str, &str),
    password: &str,
    verify: bool,
) -> anyhow::Result<()> {
    let new = SignUp {
        practice: practice.slug.clone(),
        email: email.to_owned(),
        password: password.to_owned(),
        first_name: first_name.to_owned(),
        last_name: last_name.to_owned(),
    };
    // Run again, the demo keeps the accounts it made (a new sign-up would
    // retire an unverified one and make it anew).
    let exists = petbridge_domain::db::entities::owner_account::Entity::find()
        .filter(petbridge_domain::db::entities::owner_account::Column::PracticeId.eq(practice.id))
        .filter(petbridge_domain::db::entities::owner_account::Column::Email.eq(email))
        .one(&platform.db)
        .await
        .map_err(|err| anyhow!("{err}"))?
        .is_some();
    if exists {
        return Ok(());
    }
    match accounts::sign_up(platform, &Origin::default(), new).await {
        // Demo owners read no mail (a live server's worker may have sent and
        // forgotten the link already): the operator vouches for the address.
        Ok(_) if verify => {
            accounts::vouch_for_address(platform, Scope { practice_id: practice.id }, email).await.map_err(fail)
        }
        Ok(_) | Err(DomainError::Failed(Code::AccountExists, _)) => Ok(()),
        Err(err) => Err(fail(err)),
    }
}
