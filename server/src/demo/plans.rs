//! The demo practice's wellness-plan catalogue: a puppy plan that renews
//! into the adult dog plan, a senior dog plan, and the same for cats, with
//! the WP codes a practice's PMS would bill their items under.

use petbridge_domain::{
    Actor, Code, DomainError, Origin, Platform, Scope,
    db::entities::{
        pet,
        plan::{Billing, HoldReason, Renewal},
        staff_user,
    },
    kernel::caller::Authorized,
    plans::{
        enrolment::{self, Enrolment},
        lifecycle, notes,
        templates::{self as plan_templates, ItemDraft, TemplateDraft},
    },
    practices::{self, SettingsChanges},
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
};
use uuid::Uuid;

/// How many demo pets get a plan.
const ENROLLED: usize = 36;

/// An item: description, WP code, allowed per term (none: unlimited), retail cents.
type Item = (&'static str, &'static str, Option<i32>, i64);

struct Plan {
    code: &'static str,
    name: &'static str,
    species: &'static str,
    ages: (i32, Option<i32>),
    /// Monthly, paid in full and initial fee, in cents.
    prices: (i64, i64, i64),
    items: &'static [Item],
    /// The code of the plan it renews into; none for itself.
    renews_into: Option<&'static str>,
}

const EXAM: Item = ("Wellness exam", "WP100", Some(3), 6_500);
const FECAL: Item = ("Fecal exam", "WP140", Some(2), 4_200);
const NAILS: Item = ("Nail trim", "WP190", None, 1_800);

/// Adult plans first: the young ones renew into them.
const CATALOGUE: [Plan; 5] = [
    Plan {
        code: "ADULT-DOG",
        name: "Adult Dog Wellness",
        species: "dog",
        ages: (12, Some(95)),
        prices: (3_499, 38_900, 4_900),
        items: &[
            EXAM,
            ("Rabies vaccine", "WP120", Some(1), 3_500),
            ("DHPP booster", "WP110", Some(1), 3_800),
            ("Heartworm test", "WP130", Some(1), 5_200),
            FECAL,
            NAILS,
        ],
        renews_into: None,
    },
    Plan {
        code: "PUPPY",
        name: "Puppy Start",
        species: "dog",
        ages: (0, Some(11)),
        prices: (3_999, 44_900, 4_900),
        items: &[
            ("Wellness exam", "WP100", Some(4), 6_500),
            ("DHPP series", "WP110", Some(3), 3_800),
            ("Rabies vaccine", "WP120", Some(1), 3_500),
            ("Deworming", "WP150", Some(3), 1_900),
            FECAL,
            ("Spay or neuter", "WP300", Some(1), 42_000),
            NAILS,
        ],
        renews_into: Some("ADULT-DOG"),
    },
    Plan {
        code: "SENIOR-DOG",
        name: "Senior Dog Care",
        species: "dog",
        ages: (96, None),
        prices: (4_999, 55_900, 4_900),
        items: &[
            EXAM,
            ("Senior blood panel", "WP200", Some(2), 14_500),
            ("Urinalysis", "WP210", Some(1), 6_800),
            ("Chest radiographs", "WP220", Some(1), 21_000),
            ("Rabies vaccine", "WP120", Some(1), 3_500),
            NAILS,
        ],
        renews_into: None,
    },
    Plan {
        code: "ADULT-CAT",
        name: "Adult Cat Wellness",
        species: "cat",
        ages: (12, None),
        prices: (2_999, 33_900, 4_900),
        items: &[
            EXAM,
            ("FVRCP booster", "WP115", Some(1), 3_600),
            ("Rabies vaccine (feline)", "WP125", Some(1), 3_500),
            FECAL,
            NAILS,
        ],
        renews_into: None,
    },
    Plan {
        code: "KITTEN",
        name: "Kitten Start",
        species: "cat",
        ages: (0, Some(11)),
        prices: (3_499, 38_900, 4_900),
        items: &[
            ("Wellness exam", "WP100", Some(4), 6_500),
            ("FVRCP series", "WP115", Some(3), 3_600),
            ("FeLV/FIV test", "WP160", Some(1), 4_800),
            ("Deworming", "WP150", Some(3), 1_900),
            ("Spay or neuter", "WP300", Some(1), 36_000),
        ],
        renews_into: Some("ADULT-CAT"),
    },
];

const AGREEMENT: &str = "This wellness plan is not insurance. It covers the listed services for the term, \
paid monthly or in full; the enrolment fee is not refundable. Cancelling early settles what the practice's \
cancellation policy says.";

const LETTERHEAD: [&str; 3] =
    ["1200 Riverside Drive, Springfield, OR 97477", "(541) 555-0142", "care@demo-animal-hospital.example"];

/// Adds the catalogue and enrols a few dozen pets in the plan that fits
/// them, unless the practice has plan templates already, so a second run
/// adds nothing.
pub(super) async fn catalogue(platform: &Platform, scope: Scope) -> anyhow::Result<()> {
    if !plan_templates::list(platform, scope, true).await.map_err(super::fail)?.is_empty() {
        return Ok(());
    }
    let who = Authorized { actor: Actor::system("demo"), approver: None };
    // The letterhead its healthcare agreements print under its name.
    let letterhead = SettingsChanges {
        letterhead: Some(LETTERHEAD.iter().map(|line| (*line).to_owned()).collect()),
        ..SettingsChanges::default()
    };
    practices::update_settings(platform, scope, &who.actor, &Origin::default(), letterhead)
        .await
        .map_err(super::fail)?;
    let mut added: Vec<(&str, Uuid)> = Vec::new();
    for plan in &CATALOGUE {
        let renews_into_id =
            plan.renews_into.and_then(|code| added.iter().find(|(c, _)| *c == code).map(|(_, id)| *id));
        let draft = TemplateDraft {
            code: plan.code.to_owned(),
            name: plan.name.to_owned(),
            species: Some(plan.species.to_owned()),
            min_age_months: plan.ages.0,
            max_age_months: plan.ages.1,
            term_months: plan_templates::DEFAULT_TERM_MONTHS,
            renews_into_id,
            monthly_price_cents: plan.prices.0,
            paid_in_full_price_cents: plan.prices.1,
            initial_fee_cents: plan.prices.2,
            non_plan_discount_percent: Some(10),
            agreement_text: AGREEMENT.to_owned(),
            items: plan
                .items
                .iter()
                .map(|&(description, code, quantity, retail_price_cents)| ItemDraft {
                    description: description.to_owned(),
                    code: code.to_owned(),
                    alternate_codes: Vec::new(),
                    quantity,
                    retail_price_cents,
                    add_on_monthly_cents: None,
                })
                .collect(),
        };
        let made =
            plan_templates::create(platform, scope, &who, &Origin::default(), draft).await.map_err(super::fail)?;
        added.push((plan.code, made.template.id));
    }
    // The sales are the first staff member's, so the Performance page shows points.
    let seller = staff_user::Entity::find()
        .filter(staff_user::Column::PracticeId.eq(scope.practice_id))
        .order_by_asc(staff_user::Column::CreatedAt)
        .one(&platform.db)
        .await?;
    let seller = match seller {
        Some(user) => Authorized { actor: Actor { id: Some(user.id), name: user.username }, approver: None },
        None => who,
    };
    enrol_some(platform, scope, &seller, &added).await
}

/// Enrols the first [`ENROLLED`] dogs and cats with a date of birth in the
/// plan their species and age fit, monthly or (every fourth) paid in full.
async fn enrol_some(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    templates: &[(&str, Uuid)],
) -> anyhow::Result<()> {
    let pets = pet::Entity::find()
        .filter(pet::Column::PracticeId.eq(scope.practice_id))
        .filter(pet::Column::DateOfBirth.is_not_null())
        .filter(pet::Column::PmsStatus.eq(pet::PmsStatus::Active))
        .order_by_asc(pet::Column::Name)
        .all(&platform.db)
        .await?;
    let mut enrolled = 0;
    for (n, pet) in pets.iter().enumerate() {
        if enrolled == ENROLLED {
            break;
        }
        for (_, template_id) in templates {
            let enrolment = Enrolment {
                pet_id: pet.id,
                template_id: *template_id,
                billing: if n % 4 == 3 { Billing::PaidInFull } else { Billing::Monthly },
                starts_on: None,
                renewal: Renewal::Auto,
                waive_initial_fee: n % 5 == 4,
                payment_profile_id: None,
                skip_payment_method: true,
                skip_initial_charge: true,
                add_on_item_ids: Vec::new(),
                co_owner: (n % 6 == 1).then(|| "Sam Rivera".to_owned()),
            };
            match enrolment::enrol(platform, scope, who, &Origin::default(), pet.client_id, enrolment).await {
                Ok(record) => {
                    enrolled += 1;
                    let id = record.plan.id;
                    // A few plans with a note, and a couple on hold, as a practice's would be.
                    if enrolled % 7 == 0 {
                        let note = "Owner asked for exam reminders by text.";
                        notes::add(platform, scope, who, &Origin::default(), id, note).await.map_err(super::fail)?;
                    }
                    if enrolled % 13 == 0 {
                        let reason = Some("Card expired; owner will call with a new one.");
                        lifecycle::hold(platform, scope, who, &Origin::default(), id, HoldReason::ExpiredCard, reason)
                            .await
                            .map_err(super::fail)?;
                    }
                    break;
                }
                Err(DomainError::Failed(Code::PlanDoesNotFit, _)) => {}
                Err(err) => return Err(super::fail(err)),
            }
        }
    }
    Ok(())
}
