//! Practices: the tenants of a deployment.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    Code, DomainError, DomainResult, Platform, Scope,
    db::entities::practice,
    kernel::{
        practice::{Practice, PracticeSettings},
        text::PracticeSlug,
    },
    ports::caches::Invalidation,
};

impl TryFrom<practice::Model> for Practice {
    type Error = DomainError;

    fn try_from(model: practice::Model) -> DomainResult<Self> {
        Ok(Self {
            id: model.id,
            time_zone: model
                .time_zone
                .parse()
                .map_err(|_| DomainError::Unexpected(format!("stored time zone {} is unknown", model.time_zone)))?,
            settings: serde_json::from_value(model.settings).unwrap_or_default(),
            slug: model.slug,
            name: model.name,
            sms_number: model.sms_number,
            created_at: model.created_at,
        })
    }
}

/// What it takes to create a practice.
#[derive(Debug, Clone)]
pub struct NewPractice {
    /// Short code.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// IANA time zone name, e.g. `America/Chicago`.
    pub time_zone: String,
}

/// Creates a practice; the code must be free.
pub async fn create(platform: &Platform, new: NewPractice) -> DomainResult<Practice> {
    let slug = PracticeSlug::parse(&new.slug)?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(DomainError::with(Code::InvalidName, "a practice name has 1 to 200 characters"));
    }
    let time_zone: chrono_tz::Tz =
        new.time_zone.parse().map_err(|_| DomainError::with(Code::InvalidTimeZone, "not an IANA time zone name"))?;
    if find_by_slug(platform, slug.as_str()).await?.is_some() {
        return Err(DomainError::from(Code::PracticeCodeTaken));
    }
    let settings = serde_json::to_value(PracticeSettings::default()).map_err(DomainError::unexpected)?;
    let model = practice::ActiveModel {
        id: Set(Uuid::new_v4()),
        slug: Set(slug.as_str().to_owned()),
        name: Set(name.to_owned()),
        time_zone: Set(time_zone.name().to_owned()),
        settings: Set(settings),
        sms_number: Set(None),
        created_at: Set(platform.clock.now()),
    }
    .insert(&platform.db)
    .await?;
    model.try_into()
}

/// The practice with this code, if any.
pub async fn find_by_slug(platform: &Platform, slug: &str) -> DomainResult<Option<Practice>> {
    practice::Entity::find()
        .filter(practice::Column::Slug.eq(slug.trim().to_lowercase()))
        .one(&platform.db)
        .await?
        .map(Practice::try_from)
        .transpose()
}

/// The caller's own practice.
/// Read on nearly every request, so served from the practice cache.
pub async fn get(platform: &Platform, scope: Scope) -> DomainResult<Practice> {
    if let Some(practice) = platform.caches.practices.get(&scope.practice_id) {
        return Ok(practice);
    }
    let practice: Practice = practice::Entity::find_by_id(scope.practice_id)
        .one(&platform.db)
        .await?
        .ok_or(DomainError::NotFound)?
        .try_into()?;
    platform.caches.practices.insert(practice.id, practice.clone());
    Ok(practice)
}

/// How many practices the deployment serves.
pub async fn count(platform: &Platform) -> DomainResult<u64> {
    Ok(practice::Entity::find().count(&platform.db).await?)
}

/// The only practice, when the deployment has exactly one (the login form
/// then needs no practice code).
pub async fn sole(platform: &Platform) -> DomainResult<Option<Practice>> {
    let mut two = practice::Entity::find().paginate(&platform.db, 2).fetch_page(0).await?;
    if two.len() == 1 {
        return two.pop().map(Practice::try_from).transpose();
    }
    Ok(None)
}

/// The failed logins that may lock an account, as a practice sets them.
pub const LOCKOUT_THRESHOLDS: std::ops::RangeInclusive<u32> = 3..=20;

/// The most cents invoiced a paw may take.
pub const MAX_CENTS_PER_PAW: i64 = 1_000_000;

/// Changes to a practice's settings; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsChanges {
    /// Consecutive failed logins that lock an account (3 to 20).
    pub lockout_threshold: Option<u32>,
    /// Whether administrators must use two-factor login.
    pub require_admin_two_factor: Option<bool>,
    /// The practice's texting number; an empty text removes it.
    pub sms_number: Option<String>,
    /// One paw for every this many cents invoiced ($1 to $10,000); 0 turns it off.
    pub paw_per_invoiced_cents: Option<i64>,
    /// What an owner owes when a plan is cancelled.
    pub plan_cancellation: Option<crate::kernel::practice::CancellationPolicy>,
    /// The plan points staff earn.
    pub plan_points: Option<crate::kernel::practice::PlanPoints>,
    /// When and whether plans renew by themselves.
    pub renewals: Option<crate::kernel::practice::RenewalSettings>,
    /// Cents off the enrolment fee of a household's second and later pets.
    pub multi_pet_discount_cents: Option<i64>,
    /// The agreement's letterhead lines (up to 4, of up to 100 characters).
    pub letterhead: Option<Vec<String>>,
    /// What follows a payment's last declined retry.
    pub final_failure: Option<crate::kernel::practice::FinalFailure>,
    /// The late fee that policy may add, in cents (100 to 50,000).
    pub late_fee_cents: Option<i64>,
}

/// The smallest and largest late fee, in cents.
pub const LATE_FEE_CENTS: std::ops::RangeInclusive<i64> = 100..=50_000;

/// The most lines a letterhead has, and the longest line.
pub const LETTERHEAD_LINES: usize = 4;
/// The longest letterhead line, in characters.
pub const LETTERHEAD_LINE_CHARS: usize = 100;

/// The largest multi-pet discount ($1,000).
pub const MAX_MULTI_PET_DISCOUNT_CENTS: i64 = 100_000;

/// How early a renewal may be prepared, in days before the term ends.
pub const PREPARE_DAYS: std::ops::RangeInclusive<i32> = 1..=120;
/// How many failed payments may block a renewal (0: none do).
pub const MAX_FAILED_PAYMENTS: i32 = 12;
/// When owners are told of a renewal, in days before it (automatic-renewal laws).
pub const NOTICE_DAYS: std::ops::RangeInclusive<i32> = 15..=45;

/// The most plan points one sale earns.
pub const MAX_PLAN_POINTS: i32 = 1_000;
/// The longest a cancellation may look back to take points back.
pub const MAX_REVERSAL_DAYS: i32 = 365;

/// Updates the caller's practice settings, and logs it.
pub async fn update_settings(
    platform: &Platform,
    scope: Scope,
    actor: &crate::Actor,
    origin: &crate::Origin,
    changes: SettingsChanges,
) -> DomainResult<PracticeSettings> {
    use sea_orm::sea_query::Expr;
    let mut settings = get(platform, scope).await?.settings;
    if let Some(threshold) = changes.lockout_threshold {
        if !LOCKOUT_THRESHOLDS.contains(&threshold) {
            return Err(DomainError::with(
                Code::InvalidLockoutThreshold,
                "the lockout threshold is 3 to 20 failed logins",
            ));
        }
        settings.lockout_threshold = threshold;
    }
    if let Some(required) = changes.require_admin_two_factor {
        settings.require_admin_two_factor = required;
    }
    if let Some(policy) = changes.plan_cancellation {
        settings.plan_cancellation = policy;
    }
    if let Some(points) = changes.plan_points {
        let each = [points.enrolment, points.multi_pet, points.upgrade, points.add_on];
        if !each.iter().all(|p| (0..=MAX_PLAN_POINTS).contains(p))
            || !(0..=MAX_REVERSAL_DAYS).contains(&points.reversal_days)
        {
            return Err(DomainError::with(
                Code::InvalidPlanPoints,
                "plan points are 0 to 1,000 a sale, taken back within 0 to 365 days",
            ));
        }
        settings.plan_points = points;
    }
    if let Some(rules) = changes.renewals {
        let fits = PREPARE_DAYS.contains(&rules.prepare_days_before)
            && (0..=MAX_FAILED_PAYMENTS).contains(&rules.block_after_failed_payments)
            && NOTICE_DAYS.contains(&rules.notice_days_before);
        if !fits {
            return Err(DomainError::with(
                Code::InvalidRenewalRules,
                "renewals are prepared 1 to 120 days ahead, blocked after 0 to 12 failed payments, told 15 to 45 days ahead",
            ));
        }
        settings.renewals = rules;
    }
    if let Some(cents) = changes.multi_pet_discount_cents {
        if !(0..=MAX_MULTI_PET_DISCOUNT_CENTS).contains(&cents) {
            return Err(DomainError::from(Code::InvalidMultiPetDiscount));
        }
        settings.multi_pet_discount_cents = cents;
    }
    if let Some(lines) = changes.letterhead {
        let lines: Vec<String> =
            lines.iter().map(|line| line.trim().to_owned()).filter(|line| !line.is_empty()).collect();
        if lines.len() > LETTERHEAD_LINES || lines.iter().any(|line| line.chars().count() > LETTERHEAD_LINE_CHARS) {
            return Err(DomainError::from(Code::InvalidLetterhead));
        }
        settings.letterhead = lines;
    }
    if let Some(policy) = changes.final_failure {
        settings.payments.final_failure = policy;
    }
    if let Some(cents) = changes.late_fee_cents {
        if !LATE_FEE_CENTS.contains(&cents) {
            return Err(DomainError::from(Code::InvalidLateFee));
        }
        settings.payments.late_fee_cents = cents;
    }
    match changes.paw_per_invoiced_cents {
        None => {}
        Some(0) => settings.paw_per_invoiced_cents = None,
        Some(cents @ 100..=MAX_CENTS_PER_PAW) => settings.paw_per_invoiced_cents = Some(cents),
        Some(_) => {
            return Err(DomainError::with(
                Code::InvalidPawRule,
                "one paw per 100 to 1,000,000 cents invoiced, or 0 to turn it off",
            ));
        }
    }
    let json = serde_json::to_value(&settings).map_err(DomainError::unexpected)?;
    let txn = platform.begin_write().await?;
    let mut update = practice::Entity::update_many().col_expr(practice::Column::Settings, Expr::value(json.clone()));
    if let Some(number) = &changes.sms_number {
        let number = match number.trim() {
            "" => None,
            given => Some(crate::kernel::text::Phone::parse(given)?.as_str().to_owned()),
        };
        let taken = match &number {
            Some(number) => {
                practice::Entity::find()
                    .filter(practice::Column::SmsNumber.eq(number.as_str()))
                    .filter(practice::Column::Id.ne(scope.practice_id))
                    .count(&txn)
                    .await?
                    > 0
            }
            None => false,
        };
        if taken {
            return Err(DomainError::from(Code::SmsNumberTaken));
        }
        update = update.col_expr(practice::Column::SmsNumber, Expr::value(number));
    }
    update.filter(practice::Column::Id.eq(scope.practice_id)).exec(&txn).await?;
    crate::activity::Entry::new("practice.settings_update", actor, origin)
        .detail(json)
        .record(&txn, platform, scope)
        .await?;
    txn.commit().await?;
    platform.invalidate(Invalidation::Practice(scope.practice_id)).await;
    // Sessions carry what the settings demand of them.
    platform.invalidate(Invalidation::AllSessions).await;
    Ok(settings)
}
