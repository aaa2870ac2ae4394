//! Plan templates (PLANS.md A1): what a practice sells. A template keeps its
//! code and whether it is still sold; everything else (name, ages, term,
//! prices, agreement text, items) is a numbered version. Saving a template
//! writes a new version and never touches an old one, so a plan always
//! reads the version it was sold on.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
    SqlErr,
};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Origin, Platform, Scope,
    activity::Entry,
    db::entities::{plan_template, plan_template_item, plan_template_version},
    kernel::{caller::Authorized, text::MAX_NAME_CHARS},
};

/// The longest template code.
pub const MAX_CODE_CHARS: usize = 20;
/// The longest item code, `WP` included.
pub const MAX_ITEM_CODE_CHARS: usize = 20;
/// The most alternate codes one item may have.
pub const MAX_ALTERNATE_CODES: usize = 10;
/// The most items a template may hold.
pub const MAX_ITEMS: usize = 100;
/// The longest item description.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// The longest species name (as pets' own).
pub const MAX_SPECIES_CHARS: usize = MAX_NAME_CHARS;
/// The longest agreement text.
pub const MAX_AGREEMENT_CHARS: usize = 20_000;
/// The oldest age band limit, in months (30 years).
pub const MAX_AGE_MONTHS: i32 = 360;
/// The longest term, in months.
pub const MAX_TERM_MONTHS: i32 = 60;
/// The term a template has unless it says otherwise.
pub const DEFAULT_TERM_MONTHS: i32 = 12;
/// The highest price or fee, in cents.
pub const MAX_PRICE_CENTS: i64 = 10_000_000;
/// The most of one item a term may allow.
pub const MAX_ITEM_QUANTITY: i32 = 1_000;
/// What an item code starts with: the PMS bills plan items under WP codes.
pub const ITEM_CODE_PREFIX: &str = "WP";

/// An item as staff write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    /// What it is, e.g. "Rabies vaccine".
    pub description: String,
    /// The WP code the PMS bills it under.
    pub code: String,
    /// Other WP codes that count as this item.
    pub alternate_codes: Vec<String>,
    /// Allowed per term; none for unlimited.
    pub quantity: Option<i32>,
    /// What it costs outside a plan.
    pub retail_price_cents: i64,
    /// Set for an optional add-on: what choosing it adds a month.
    pub add_on_monthly_cents: Option<i64>,
}

/// A template as staff write it: a new template, or its next version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDraft {
    /// The practice's code for it.
    pub code: String,
    /// The name owners see.
    pub name: String,
    /// The species it is for; none for any.
    pub species: Option<String>,
    /// The youngest a pet may be at enrolment, in months.
    pub min_age_months: i32,
    /// The oldest, in months; none for no limit.
    pub max_age_months: Option<i32>,
    /// How long a plan runs, in months.
    pub term_months: i32,
    /// The template a plan renews into.
    pub renews_into_id: Option<Uuid>,
    /// The monthly instalment.
    pub monthly_price_cents: i64,
    /// The price paid in full at enrolment.
    pub paid_in_full_price_cents: i64,
    /// The enrolment fee.
    pub initial_fee_cents: i64,
    /// Off items not on the plan.
    pub non_plan_discount_percent: Option<i32>,
    /// The healthcare agreement's own text for this plan.
    pub agreement_text: String,
    /// What the plan covers, in the order shown.
    pub items: Vec<ItemDraft>,
}

/// A template with the version it is sold at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The template.
    pub template: plan_template::Model,
    /// Its current version.
    pub version: plan_template_version::Model,
    /// That version's items, in order.
    pub items: Vec<plan_template_item::Model>,
}

/// The practice's templates at their current versions, by code; retired
/// ones too when `with_retired`.
pub async fn list(platform: &Platform, scope: Scope, with_retired: bool) -> DomainResult<Vec<Template>> {
    let mut query = plan_template::Entity::find().filter(plan_template::Column::PracticeId.eq(scope.practice_id));
    if !with_retired {
        query = query.filter(plan_template::Column::RetiredAt.is_null());
    }
    let templates = query.order_by_asc(plan_template::Column::Code).all(&platform.db).await?;
    let ids: Vec<Uuid> = templates.iter().map(|t| t.id).collect();
    let wanted: HashSet<(Uuid, i32)> = templates.iter().map(|t| (t.id, t.current_version)).collect();
    let mut versions: HashMap<Uuid, plan_template_version::Model> = plan_template_version::Entity::find()
        .filter(plan_template_version::Column::TemplateId.is_in(ids))
        .all(&platform.db)
        .await?
        .into_iter()
        .filter(|v| wanted.contains(&(v.template_id, v.version)))
        .map(|v| (v.template_id, v))
        .collect();
    let mut items: HashMap<Uuid, Vec<plan_template_item::Model>> = HashMap::new();
    for item in plan_template_item::Entity::find()
        .filter(plan_template_item::Column::VersionId.is_in(versions.values().map(|v| v.id)))
        .order_by_asc(plan_template_item::Column::Position)
        .all(&platform.db)
        .await?
    {
        items.entry(item.version_id).or_default().push(item);
    }
    Ok(templates
        .into_iter()
        .filter_map(|template| {
            let version = versions.remove(&template.id)?;
            let items = items.remove(&version.id).unwrap_or_default();
            Some(Template { template, version, items })
        })
        .collect())
}

/// One template of the practice at its current version.
pub async fn get(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<Template> {
    let template = find(&platform.db, scope, id).await?;
    at_version(&platform.db, template.clone(), template.current_version).await
}

/// Every version of a template, newest first.
pub async fn versions(platform: &Platform, scope: Scope, id: Uuid) -> DomainResult<Vec<plan_template_version::Model>> {
    let template = find(&platform.db, scope, id).await?;
    Ok(plan_template_version::Entity::find()
        .filter(plan_template_version::Column::TemplateId.eq(template.id))
        .order_by_desc(plan_template_version::Column::Version)
        .all(&platform.db)
        .await?)
}

/// A template as it stood at `version` (what a plan sold on it reads).
pub async fn at(platform: &Platform, scope: Scope, id: Uuid, version: i32) -> DomainResult<Template> {
    let template = find(&platform.db, scope, id).await?;
    at_version(&platform.db, template, version).await
}

/// Adds a template at version 1.
pub async fn create(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    draft: TemplateDraft,
) -> DomainResult<Template> {
    let draft = checked(draft)?;
    let txn = platform.begin_write().await?;
    if let Some(next) = draft.renews_into_id {
        find(&txn, scope, next).await?;
    }
    let template = plan_template::ActiveModel {
        id: Set(Uuid::new_v4()),
        practice_id: Set(scope.practice_id),
        code: Set(draft.code.clone()),
        current_version: Set(1),
        retired_at: Set(None),
        created_at: Set(platform.clock.now()),
    }
    .insert(&txn)
    .await
    .map_err(code_taken)?;
    let written = write_version(&txn, platform, who, template, 1, &draft).await?;
    Entry::authorized("plan_template.create", who, origin)
        .target("plan_template", written.template.id)
        .detail(serde_json::json!({ "code": draft.code, "name": draft.name }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(written)
}

/// Saves a template's next version; the versions before it stay as they were.
pub async fn revise(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    draft: TemplateDraft,
) -> DomainResult<Template> {
    let draft = checked(draft)?;
    let txn = platform.begin_write().await?;
    let template = find(&txn, scope, id).await?;
    if let Some(next) = draft.renews_into_id {
        find(&txn, scope, next).await?;
    }
    let version = template.current_version + 1;
    let mut active = template.into_active_model();
    active.code = Set(draft.code.clone());
    active.current_version = Set(version);
    let template = active.update(&txn).await.map_err(code_taken)?;
    let written = write_version(&txn, platform, who, template, version, &draft).await?;
    Entry::authorized("plan_template.revise", who, origin)
        .target("plan_template", id)
        .detail(serde_json::json!({ "code": draft.code, "version": version }))
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    Ok(written)
}

/// Stops selling a template (`retired`), or sells it again. Plans already
/// sold on it are not touched.
pub async fn set_retired(
    platform: &Platform,
    scope: Scope,
    who: &Authorized,
    origin: &Origin,
    id: Uuid,
    retired: bool,
) -> DomainResult<Template> {
    let txn = platform.begin_write().await?;
    let template = find(&txn, scope, id).await?;
    let retired_at = if retired { template.retired_at.or(Some(platform.clock.now())) } else { None };
    let changed = retired_at != template.retired_at;
    let mut active = template.into_active_model();
    active.retired_at = Set(retired_at);
    let template = active.update(&txn).await?;
    if changed {
        let action = if retired { "plan_template.retire" } else { "plan_template.offer" };
        Entry::authorized(action, who, origin).target("plan_template", id).record(&txn, platform, scope).await?;
    }
    let current = at_version(&txn, template.clone(), template.current_version).await?;
    txn.commit().await?;
    Ok(current)
}

/// A template of the practice, on `conn`.
pub(crate) async fn find(conn: &impl ConnectionTrait, scope: Scope, id: Uuid) -> DomainResult<plan_template::Model> {
    plan_template::Entity::find_by_id(id)
        .filter(plan_template::Column::PracticeId.eq(scope.practice_id))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A template as it stood at `version`, on `conn`.
pub(crate) async fn at_version(
    conn: &impl ConnectionTrait,
    template: plan_template::Model,
    version: i32,
) -> DomainResult<Template> {
    let version = plan_template_version::Entity::find()
        .filter(plan_template_version::Column::TemplateId.eq(template.id))
        .filter(plan_template_version::Column::Version.eq(version))
        .one(conn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let items = items_of(conn, version.id).await?;
    Ok(Template { template, version, items })
}

async fn write_version(
    conn: &impl ConnectionTrait,
    platform: &Platform,
    who: &Authorized,
    template: plan_template::Model,
    version: i32,
    draft: &TemplateDraft,
) -> DomainResult<Template> {
    let version = plan_template_version::ActiveModel {
        id: Set(Uuid::new_v4()),
        template_id: Set(template.id),
        version: Set(version),
        name: Set(draft.name.clone()),
        species: Set(draft.species.clone()),
        min_age_months: Set(draft.min_age_months),
        max_age_months: Set(draft.max_age_months),
        term_months: Set(draft.term_months),
        renews_into_id: Set(draft.renews_into_id),
        monthly_price_cents: Set(draft.monthly_price_cents),
        paid_in_full_price_cents: Set(draft.paid_in_full_price_cents),
        initial_fee_cents: Set(draft.initial_fee_cents),
        non_plan_discount_percent: Set(draft.non_plan_discount_percent),
        agreement_text: Set(draft.agreement_text.clone()),
        created_by: Set(who.actor.name.clone()),
        created_at: Set(platform.clock.now()),
    }
    .insert(conn)
    .await?;
    let rows: Vec<plan_template_item::ActiveModel> = draft
        .items
        .iter()
        .zip(0..)
        .map(|(item, position)| plan_template_item::ActiveModel {
            id: Set(Uuid::new_v4()),
            version_id: Set(version.id),
            position: Set(position),
            description: Set(item.description.clone()),
            code: Set(item.code.clone()),
            alternate_codes: Set(item.alternate_codes.join(" ")),
            quantity: Set(item.quantity),
            retail_price_cents: Set(item.retail_price_cents),
            add_on_monthly_cents: Set(item.add_on_monthly_cents),
        })
        .collect();
    plan_template_item::Entity::insert_many(rows).exec(conn).await?;
    let items = items_of(conn, version.id).await?;
    Ok(Template { template, version, items })
}

/// A version's items, in order.
pub(crate) async fn items_of(
    conn: &impl ConnectionTrait,
    version_id: Uuid,
) -> DomainResult<Vec<plan_template_item::Model>> {
    Ok(plan_template_item::Entity::find()
        .filter(plan_template_item::Column::VersionId.eq(version_id))
        .order_by_asc(plan_template_item::Column::Position)
        .all(conn)
        .await?)
}

fn code_taken(err: DbErr) -> DomainError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Code::PlanCodeTaken.into(),
        _ => err.into(),
    }
}

/// The draft in its stored form (codes upper case, text trimmed), or why not.
fn checked(draft: TemplateDraft) -> DomainResult<TemplateDraft> {
    let code = draft.code.trim().to_uppercase();
    if code.is_empty()
        || code.chars().count() > MAX_CODE_CHARS
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(DomainError::with(
            Code::InvalidPlanCode,
            "a template's code has 1 to 20 letters, digits or dashes",
        ));
    }
    let name = draft.name.trim().to_owned();
    if !(1..=MAX_NAME_CHARS).contains(&name.chars().count()) {
        return Err(DomainError::with(Code::InvalidName, "a plan's name has 1 to 100 characters"));
    }
    let species = draft.species.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    if species.as_ref().is_some_and(|s| s.chars().count() > MAX_SPECIES_CHARS) {
        return Err(DomainError::with(Code::InvalidSpecies, "a species has at most 100 characters"));
    }
    let ages_fit = (0..=MAX_AGE_MONTHS).contains(&draft.min_age_months)
        && draft.max_age_months.is_none_or(|max| (draft.min_age_months..=MAX_AGE_MONTHS).contains(&max));
    if !ages_fit {
        return Err(DomainError::with(
            Code::InvalidAgeBand,
            "ages are whole months from 0 to 360, and the oldest is not below the youngest",
        ));
    }
    if !(1..=MAX_TERM_MONTHS).contains(&draft.term_months) {
        return Err(DomainError::with(Code::InvalidTerm, "a term is 1 to 60 months"));
    }
    for (field, cents) in [
        ("monthly_price_cents", draft.monthly_price_cents),
        ("paid_in_full_price_cents", draft.paid_in_full_price_cents),
        ("initial_fee_cents", draft.initial_fee_cents),
    ] {
        price(field, cents)?;
    }
    if draft.non_plan_discount_percent.is_some_and(|p| !(0..=100).contains(&p)) {
        return Err(DomainError::with(Code::InvalidDiscount, "a discount is 0 to 100 percent"));
    }
    let agreement_text = draft.agreement_text.trim().to_owned();
    if !(1..=MAX_AGREEMENT_CHARS).contains(&agreement_text.chars().count()) {
        return Err(DomainError::with(Code::InvalidAgreement, "an agreement has 1 to 20,000 characters"));
    }
    if !(1..=MAX_ITEMS).contains(&draft.items.len()) {
        return Err(DomainError::with(Code::InvalidItems, "a template has 1 to 100 items"));
    }
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(draft.items.len());
    for (number, item) in draft.items.into_iter().enumerate() {
        let item = checked_item(number + 1, item)?;
        for code in std::iter::once(&item.code).chain(&item.alternate_codes) {
            if !seen.insert(code.clone()) {
                return Err(DomainError::with(
                    Code::DuplicateItemCode,
                    format!("{code} stands more than once in this template"),
                ));
            }
        }
        items.push(item);
    }
    Ok(TemplateDraft { code, name, species, agreement_text, items, ..draft })
}

fn checked_item(number: usize, item: ItemDraft) -> DomainResult<ItemDraft> {
    let description = item.description.trim().to_owned();
    if !(1..=MAX_DESCRIPTION_CHARS).contains(&description.chars().count()) {
        return Err(DomainError::with(
            Code::InvalidDescription,
            format!("item {number}: a description has 1 to 200 characters"),
        ));
    }
    let code = item_code(number, &item.code)?;
    if item.alternate_codes.len() > MAX_ALTERNATE_CODES {
        return Err(DomainError::with(Code::InvalidItemCode, format!("item {number}: at most 10 alternate codes")));
    }
    let alternate_codes = item.alternate_codes.iter().map(|c| item_code(number, c)).collect::<DomainResult<_>>()?;
    if item.quantity.is_some_and(|q| !(1..=MAX_ITEM_QUANTITY).contains(&q)) {
        return Err(DomainError::with(
            Code::InvalidQuantity,
            format!("item {number}: a quantity is 1 to 1,000 a term, or none for unlimited"),
        ));
    }
    price("retail_price_cents", item.retail_price_cents)?;
    if let Some(monthly) = item.add_on_monthly_cents {
        price("add_on_monthly_cents", monthly)?;
    }
    Ok(ItemDraft { description, code, alternate_codes, ..item })
}

fn item_code(number: usize, raw: &str) -> DomainResult<String> {
    let code = raw.trim().to_uppercase();
    let fits = code.len() > ITEM_CODE_PREFIX.len()
        && code.len() <= MAX_ITEM_CODE_CHARS
        && code.starts_with(ITEM_CODE_PREFIX)
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if fits {
        Ok(code)
    } else {
        Err(DomainError::with(
            Code::InvalidItemCode,
            format!("item {number}: {raw:?} is not a WP code (WP and 1 to 18 more letters, digits, dots or dashes)"),
        ))
    }
}

fn price(field: &str, cents: i64) -> DomainResult<()> {
    if (0..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(())
    } else {
        Err(DomainError::with(Code::InvalidPrice, format!("{field} is a number of cents from 0 to 10,000,000")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> TemplateDraft {
        TemplateDraft {
            code: " puppy ".into(),
            name: "Puppy Plan".into(),
            species: Some(" Dog ".into()),
            min_age_months: 0,
            max_age_months: Some(12),
            term_months: 12,
            renews_into_id: None,
            monthly_price_cents: 3_999,
            paid_in_full_price_cents: 44_900,
            initial_fee_cents: 4_900,
            non_plan_discount_percent: Some(10),
            agreement_text: "Not insurance.".into(),
            items: vec![ItemDraft {
                description: "Rabies vaccine".into(),
                code: "wp101".into(),
                alternate_codes: vec!["WP101B".into()],
                quantity: Some(1),
                retail_price_cents: 3_500,
                add_on_monthly_cents: None,
            }],
        }
    }

    #[test]
    fn a_draft_is_stored_in_its_normal_form() {
        let checked = checked(draft()).unwrap();
        assert_eq!((checked.code.as_str(), checked.species.as_deref()), ("PUPPY", Some("dog")));
        assert_eq!(checked.items[0].code, "WP101");
    }

    #[test]
    fn each_broken_rule_has_its_code() {
        let cases: Vec<(TemplateDraft, Code)> = vec![
            (TemplateDraft { code: "no spaces".into(), ..draft() }, Code::InvalidPlanCode),
            (TemplateDraft { max_age_months: Some(-1), ..draft() }, Code::InvalidAgeBand),
            (TemplateDraft { min_age_months: 13, ..draft() }, Code::InvalidAgeBand),
            (TemplateDraft { term_months: 0, ..draft() }, Code::InvalidTerm),
            (TemplateDraft { monthly_price_cents: -1, ..draft() }, Code::InvalidPrice),
            (TemplateDraft { non_plan_discount_percent: Some(101), ..draft() }, Code::InvalidDiscount),
            (TemplateDraft { agreement_text: " ".into(), ..draft() }, Code::InvalidAgreement),
            (TemplateDraft { items: vec![], ..draft() }, Code::InvalidItems),
            (
                TemplateDraft {
                    items: vec![ItemDraft { code: "DA2PP".into(), ..draft().items[0].clone() }],
                    ..draft()
                },
                Code::InvalidItemCode,
            ),
            (
                TemplateDraft {
                    items: vec![ItemDraft { alternate_codes: vec!["WP101".into()], ..draft().items[0].clone() }],
                    ..draft()
                },
                Code::DuplicateItemCode,
            ),
            (
                TemplateDraft { items: vec![ItemDraft { quantity: Some(0), ..draft().items[0].clone() }], ..draft() },
                Code::InvalidQuantity,
            ),
        ];
        for (draft, code) in cases {
            assert_eq!(checked(draft.clone()).unwrap_err().code(), code, "{draft:?}");
        }
    }
}
