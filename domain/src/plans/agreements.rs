//! The healthcare agreement (PLANS.md A12). A plan is issued one at
//! enrolment, at each change and on renewal: the PDF is typeset then, in
//! the transaction of the step, stored with its SHA-256, and emailed to the
//! owner; the owner reads and signs it in the app. A stored agreement is
//! never rewritten, so what was signed can always be shown.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use petbridge_agreement as document;

use crate::{
    Actor, Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{
        client, pet,
        plan::{self, Billing, Renewal},
        plan_agreement::{self, Occasion},
        plan_payment::{PaymentKind, PaymentStatus},
        plan_template, plan_template_version,
    },
    deliveries::outbox::{self, Channel, NewDelivery, Purpose},
    kernel::{
        practice::{CancellationPolicy, Practice},
        text::dollars,
        tokens::sha256_hex,
    },
    plans::{
        records::{self, AgreementSummary, PlanRecord},
        templates,
    },
    practices,
};

/// Where a signature came from, as the signing record keeps it.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// The owner's full name, typed.
    pub typed_name: String,
    /// The network address of the request.
    pub address: Option<String>,
    /// The app's or browser's user agent.
    pub user_agent: Option<String>,
}

/// The longest typed signature.
pub const MAX_SIGNATURE_CHARS: usize = 200;

/// Issues `plan` its next agreement, as it stands on `conn` now, and emails
/// it to the household. Call it in the step's transaction, after the plan
/// and its schedule are written.
pub(crate) async fn issue(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    plan: &plan::Model,
    occasion: Occasion,
    issued_by: &Actor,
) -> DomainResult<()> {
    let scope = Scope { practice_id: plan.practice_id };
    let practice = practices::get(platform, scope).await?;
    let record = records::load(conn, plan.clone()).await?;
    let household = client::Entity::find_by_id(plan.client_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let pet = pet::Entity::find_by_id(plan.pet_id).one(conn).await?.ok_or(DomainError::NotFound)?;
    let renews_into = match record.version.renews_into_id {
        Some(id) => match plan_template::Entity::find_by_id(id).one(conn).await? {
            Some(template) => {
                let current = template.current_version;
                Some(templates::at_version(conn, template, current).await?.version.name)
            }
            None => None,
        },
        None => None,
    };
    let number = record.agreements.iter().map(|a| a.number).max().unwrap_or(0) + 1;
    let issued_on = practice.today(platform.clock.now());
    let facts = Facts { practice: &practice, record: &record, household: &household, pet: &pet, renews_into };
    let wording = compose(&facts, occasion, number, issued_on);
    let reference = wording.reference.clone();
    // Typesetting is CPU work (about 20 ms): off the async threads, so other requests run meanwhile.
    let pdf = tokio::task::spawn_blocking(move || document::render(&wording))
        .await
        .map_err(DomainError::unexpected)?
        .map_err(DomainError::unexpected)?;
    let sha256 = sha256_hex(&pdf);
    let now = platform.clock.now();
    let stored = plan_agreement::ActiveModel {
        id: Set(Uuid::now_v7()),
        practice_id: Set(plan.practice_id),
        plan_id: Set(plan.id),
        number: Set(number),
        occasion: Set(occasion),
        reference: Set(reference.clone()),
        sha256: Set(sha256.clone()),
        pdf: Set(pdf),
        issued_by: Set(issued_by.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    if let Some(email) = household.email.clone() {
        let first = if household.first_name.is_empty() { "there" } else { &household.first_name };
        let new = NewDelivery {
            channel: Channel::Email,
            recipient: email,
            subject: Some(format!("{}'s healthcare agreement: {}", pet.name, record.version.name)),
            body: format!(
                "Hello {first},\n\nAttached is {}'s healthcare agreement for {} ({reference}). Please keep it: it lists \
                 the care the plan includes, its payments, and how to cancel or stop a renewal.\n\n\
                 You can read it again and sign it in the {} app, under Plans.\n\nIts SHA-256 is {sha256}.\n",
                pet.name, record.version.name, practice.name,
            ),
            data: serde_json::json!({ "template": "plan_agreement", "agreement_id": stored.id }),
            reason: format!("healthcare agreement ({occasion})"),
            // The terms of a sale are owed whatever the marketing preferences say.
            purpose: Purpose::Account,
            client_id: Some(household.id),
            not_before: None,
            sealed: None,
        };
        outbox::enqueue(conn, platform, scope, new).await?;
    }
    Ok(())
}

/// A stored agreement's PDF and the file name to save it as.
#[derive(Debug, Clone)]
pub struct AgreementFile {
    /// `healthcare-agreement-<pet>-<number>.pdf`.
    pub filename: String,
    /// The PDF, byte for byte as issued.
    pub pdf: Vec<u8>,
}

async fn file_of(
    platform: &Platform,
    practice_id: Uuid,
    plan_id: Option<Uuid>,
    id: Uuid,
) -> DomainResult<AgreementFile> {
    let mut query = plan_agreement::Entity::find_by_id(id).filter(plan_agreement::Column::PracticeId.eq(practice_id));
    if let Some(plan_id) = plan_id {
        query = query.filter(plan_agreement::Column::PlanId.eq(plan_id));
    }
    let row = query.one(&platform.db).await?.ok_or(DomainError::NotFound)?;
    let pet = match plan::Entity::find_by_id(row.plan_id).one(&platform.db).await? {
        Some(plan) => pet::Entity::find_by_id(plan.pet_id).one(&platform.db).await?.map(|p| p.name),
        None => None,
    };
    let slug: String = pet
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    Ok(AgreementFile { filename: format!("healthcare-agreement-{slug}-{}.pdf", row.number), pdf: row.pdf })
}

/// Agreement `id` of plan `plan_id` of the practice, for staff.
pub async fn file(platform: &Platform, scope: Scope, plan_id: Uuid, id: Uuid) -> DomainResult<AgreementFile> {
    file_of(platform, scope.practice_id, Some(plan_id), id).await
}

/// Agreement `id` of plan `plan_id`, for the owner of `household`.
pub async fn file_for_owner(
    platform: &Platform,
    scope: Scope,
    household: Uuid,
    plan_id: Uuid,
    id: Uuid,
) -> DomainResult<AgreementFile> {
    if records::find(&platform.db, scope, plan_id).await?.client_id != household {
        return Err(DomainError::NotFound);
    }
    file_of(platform, scope.practice_id, Some(plan_id), id).await
}

/// The agreement a queued email attaches, by the id its delivery names.
pub async fn attachment(platform: &Platform, practice_id: Uuid, id: Uuid) -> DomainResult<AgreementFile> {
    file_of(platform, practice_id, None, id).await
}

/// The words an owner agrees to by signing `agreement`: they name the
/// document by its SHA-256, so the record says which text was signed.
fn statement(typed_name: &str, agreement: &AgreementSummary, pet: &str, plan: &str) -> String {
    format!(
        "I, {typed_name}, have read and agree to the healthcare agreement {} for {pet}'s {plan} (the PDF with \
         SHA-256 {}). I understand that the plan is not insurance, and I authorise the charges it lists.",
        agreement.reference, agreement.sha256
    )
}

/// The owner of `household` signs agreement `id` of plan `plan_id`: the
/// plan's newest agreement, not signed yet. Returns the plan as it stands.
pub async fn sign(
    platform: &Platform,
    scope: Scope,
    household: Uuid,
    (plan_id, id): (Uuid, Uuid),
    signature: Signature,
) -> DomainResult<PlanRecord> {
    let typed_name = signature.typed_name.trim().to_owned();
    if typed_name.is_empty()
        || typed_name.chars().count() > MAX_SIGNATURE_CHARS
        || typed_name.chars().any(char::is_control)
    {
        return Err(DomainError::from(Code::SignatureRequired));
    }
    let txn = platform.begin_write().await?;
    let plan = records::find(&txn, scope, plan_id).await?;
    if plan.client_id != household {
        return Err(DomainError::NotFound);
    }
    let agreements = records::agreements_of(&txn, plan.id).await?;
    let agreement = agreements.iter().find(|a| a.id == id).ok_or(DomainError::NotFound)?;
    if agreement.signed_at.is_some() {
        return Err(DomainError::from(Code::AgreementSigned));
    }
    if agreements.last().is_some_and(|newest| newest.id != id) {
        return Err(DomainError::from(Code::AgreementSuperseded));
    }
    // The names the words use; the whole plan is read once, after the signature.
    let pet = pet::Entity::find_by_id(plan.pet_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let version =
        plan_template_version::Entity::find_by_id(plan.version_id).one(&txn).await?.ok_or(DomainError::NotFound)?;
    let words = statement(&typed_name, agreement, &pet.name, &version.name);
    let now = platform.clock.now();
    let signed = plan_agreement::ActiveModel {
        id: sea_orm::Unchanged(id),
        signed_name: Set(Some(typed_name.clone())),
        signed_at: Set(Some(now)),
        signed_address: Set(signature.address.clone()),
        signed_user_agent: Set(signature.user_agent.map(|agent| agent.chars().take(500).collect())),
        signed_statement: Set(Some(words)),
        ..Default::default()
    };
    signed.update(&txn).await?;
    let owner = Actor { id: None, name: format!("{typed_name} (the owner, in the app)") };
    let origin = Origin { request_id: None, ip: signature.address };
    Entry::new("plan.agreement_signed", &owner, &origin)
        .target("plan", plan.id)
        .detail(serde_json::json!({
            "agreement": agreement.id, "number": agreement.number, "reference": agreement.reference,
            "sha256": agreement.sha256,
        }))
        .record(&txn, platform, scope)
        .await?;
    let record = records::load(&txn, plan).await?;
    txn.commit().await?;
    Ok(record)
}

/// What an agreement is written from.
struct Facts<'a> {
    practice: &'a Practice,
    record: &'a PlanRecord,
    household: &'a client::Model,
    pet: &'a pet::Model,
    /// The name of the plan this one renews into.
    renews_into: Option<String>,
}

fn day(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// Words the agreement from the plan as it stands.
fn compose(facts: &Facts<'_>, occasion: Occasion, number: i32, issued_on: NaiveDate) -> document::Agreement {
    let Facts { practice, record, household, pet, .. } = facts;
    let plan = &record.plan;
    let version = &record.version;
    let owed: Vec<_> = record.payments.iter().filter(|p| p.status != PaymentStatus::Cancelled).collect();
    let total: i64 = owed.iter().map(|p| p.amount_cents).sum();
    let instalments = owed.iter().filter(|p| matches!(p.kind, PaymentKind::Initial | PaymentKind::Instalment)).count();
    // The usual monthly charge: the price with the add-ons chosen.
    let add_ons: i64 = record.items.iter().filter_map(|i| i.add_on_monthly_cents).sum();
    let monthly = version.monthly_price_cents + add_ons;
    let with_fee = if plan.initial_fee_cents > 0 { ", the first with the enrolment fee" } else { "" };
    let billing = match plan.billing {
        Billing::Monthly => format!("{instalments} monthly payments of {}{with_fee}", dollars(monthly)),
        Billing::PaidInFull => format!("Paid in full: {}", dollars(total)),
    };
    let enrolment_fee = match (plan.fee_waived, plan.initial_fee_cents) {
        (true, _) => "Waived".to_owned(),
        (false, 0) if plan.renews_plan_id.is_some() => "None (a renewal)".to_owned(),
        (false, 0) => "None".to_owned(),
        (false, cents) => dollars(cents),
    };
    let mut instalment = 0;
    let schedule = owed
        .iter()
        .map(|payment| {
            let label = match payment.kind {
                PaymentKind::Initial if plan.billing == Billing::PaidInFull => "The term, paid in full".to_owned(),
                PaymentKind::Initial | PaymentKind::Instalment => {
                    instalment += 1;
                    format!("Payment {instalment} of {instalments}")
                }
                PaymentKind::Supplemental => "Supplemental payment".to_owned(),
                PaymentKind::Cancellation => "Owed on cancellation".to_owned(),
            };
            let settled = matches!(payment.status, PaymentStatus::Paid | PaymentStatus::PaidExternal);
            document::Instalment {
                due_on: day(payment.due_on),
                label: if settled { format!("{label} (paid)") } else { label },
                amount: dollars(payment.amount_cents),
            }
        })
        .collect();
    let items = record
        .items
        .iter()
        .map(|item| document::Item {
            code: item.code.clone(),
            description: match item.add_on_monthly_cents {
                Some(cents) => format!("{} (add-on, {} a month)", item.description, dollars(cents)),
                None => item.description.clone(),
            },
            quantity: item.quantity.map_or_else(|| "Unlimited".to_owned(), |q| q.to_string()),
        })
        .collect();
    let (amount, frequency) = match plan.billing {
        Billing::Monthly => {
            (dollars(monthly), format!("each month on the due dates above, {instalments} times{with_fee}"))
        }
        Billing::PaidInFull => (dollars(total), "once, on the due date above".to_owned()),
    };
    let mut pet_line: Vec<String> =
        [pet.species.clone(), pet.breed.clone(), pet.sex.clone()].into_iter().flatten().collect();
    if let Some(born) = pet.date_of_birth {
        pet_line.push(format!("born {}", day(born)));
    }
    let owner_contact = [household.email.clone(), household.phone.clone()].into_iter().flatten().collect();
    let reach = match practice.settings.letterhead.first() {
        Some(_) => format!(" ({})", practice.settings.letterhead.join(", ")),
        None => String::new(),
    };
    document::Agreement {
        reference: format!("{} v{} · agreement {number}", record.template_code, version.version),
        issued_on: day(issued_on),
        occasion: occasion.to_string(),
        practice: document::Practice { name: practice.name.clone(), contact: practice.settings.letterhead.clone() },
        owner: document::Person {
            name: format!("{} {}", household.first_name, household.last_name).trim().to_owned(),
            contact: owner_contact,
        },
        co_owner: plan.co_owner.clone(),
        pet: document::Pet { name: pet.name.clone(), description: pet_line.join(", ") },
        plan: document::Terms {
            name: version.name.clone(),
            code: format!("{}, version {}", record.template_code, version.version),
            term: format!("{} to {} ({} months)", day(plan.starts_on), day(plan.ends_on), version.term_months),
            billing,
            enrolment_fee,
            total: dollars(total),
        },
        items,
        schedule,
        practice_terms: version.agreement_text.clone(),
        cancellation_terms: cancellation_terms(practice.settings.plan_cancellation),
        renewal_terms: renewal_terms(facts, &practice.name),
        authorisation: document::Authorisation {
            amount,
            frequency,
            // The card the plan charges; with none on file the owner writes
            // its last digits on the printed copy.
            card_last4: record.card.as_ref().filter(|c| c.removed_at.is_none()).map(|c| c.last4.clone()),
            how_to_cancel: format!(
                "I may withdraw this authorisation by cancelling the plan with {}{reach}; what is owed then follows \
                 the cancellation terms above.",
                practice.name
            ),
        },
    }
}

fn cancellation_terms(policy: CancellationPolicy) -> String {
    let owed = match policy {
        CancellationPolicy::RemainingPayments => "the payments still scheduled become due at once".to_owned(),
        CancellationPolicy::UsageLessPaid => "you owe the retail value of the care already used and the enrolment \
             fee, less what you have paid; if you have paid more than that, the difference is refunded"
            .to_owned(),
        CancellationPolicy::Lesser => "you owe the lesser of the payments still scheduled and the retail value of \
             the care already used with the enrolment fee, less what you have paid"
            .to_owned(),
        CancellationPolicy::Nothing => "nothing more is owed".to_owned(),
        CancellationPolicy::ManagerFigure => "the practice's manager works out what is owed for the care already \
             used, and shows you how"
            .to_owned(),
    };
    format!(
        "The plan may be cancelled at any time. If it is cancelled before its term ends, {owed}. Every other payment \
         still scheduled is cancelled. The practice may put the plan on hold (for example while a card is replaced); \
         no payments are taken while it is held."
    )
}

fn renewal_terms(facts: &Facts<'_>, practice: &str) -> String {
    let plan = &facts.record.plan;
    let notice = facts.practice.settings.renewals.notice_days_before;
    match plan.renewal {
        Renewal::Auto => {
            let into = facts.renews_into.clone().unwrap_or_else(|| facts.record.version.name.clone());
            let told = if facts.record.version.term_months >= 12 {
                format!(" You are told {notice} days before it renews, with its price.")
            } else {
                String::new()
            };
            format!(
                "When the term ends the plan renews by itself into {into}, at the prices {practice} charges then and \
                 without an enrolment fee, unless you stop it.{told} You can stop the renewal at any time before it \
                 starts: choose \"Do not renew\" under Plans in the {practice} app, or tell the practice; nothing is \
                 charged for a renewal you stop."
            )
        }
        Renewal::Manual => format!(
            "The plan does not renew by itself: {practice} may offer you a renewal before the term ends, which you \
             are free to decline."
        ),
        Renewal::DoNotRenew => "The plan ends with its term and does not renew.".to_owned(),
    }
}
