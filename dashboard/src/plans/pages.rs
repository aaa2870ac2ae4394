//! The Wellness plans page: the practice's plan templates at the versions
//! sold now, each editable (a save is a new version) and retirable, and a
//! form to add one. Its forms post to the staff API (`data-api`).

use askama::Template;
use petbridge_domain::{
    Platform,
    db::entities::plan_template_item,
    kernel::permissions::Permission,
    plans::templates::{self as plan_templates, Template as PlanTemplate},
    practices,
};
use poem::{
    Response, handler,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::kit::{
    auth::StaffPage,
    chrome::{Chrome, refuse, render, server_error},
};

/// A template as the page shows it.
struct Row {
    plan: PlanTemplate,
    /// Its edit form, filled in with the version sold now.
    form: Form,
}

/// What a template form's fields hold, as people type them (dollars).
struct Form {
    code: String,
    name: String,
    species: String,
    min_age_months: String,
    max_age_months: String,
    term_months: String,
    /// The renews-into choice; for an edit, "itself" is the template's own id.
    renews_into: String,
    itself: String,
    monthly: String,
    paid_in_full: String,
    initial_fee: String,
    discount: String,
    agreement_text: String,
    items: Vec<ItemFields>,
}

struct ItemFields {
    description: String,
    code: String,
    alternates: String,
    quantity: String,
    retail: String,
    /// The add-on's monthly price; empty for an item always covered.
    add_on: String,
}

impl Form {
    /// The add form: one empty item, the default term.
    fn blank() -> Self {
        Self {
            code: String::new(),
            name: String::new(),
            species: String::new(),
            min_age_months: "0".to_owned(),
            max_age_months: String::new(),
            term_months: plan_templates::DEFAULT_TERM_MONTHS.to_string(),
            renews_into: String::new(),
            itself: String::new(),
            monthly: String::new(),
            paid_in_full: String::new(),
            initial_fee: "0.00".to_owned(),
            discount: String::new(),
            agreement_text: String::new(),
            items: vec![ItemFields {
                description: String::new(),
                code: String::new(),
                alternates: String::new(),
                quantity: String::new(),
                retail: String::new(),
                add_on: String::new(),
            }],
        }
    }

    fn of(plan: &PlanTemplate) -> Self {
        let v = &plan.version;
        let itself = plan.template.id.to_string();
        Self {
            code: plan.template.code.clone(),
            name: v.name.clone(),
            species: v.species.clone().unwrap_or_default(),
            min_age_months: v.min_age_months.to_string(),
            max_age_months: v.max_age_months.map(|m| m.to_string()).unwrap_or_default(),
            term_months: v.term_months.to_string(),
            renews_into: v.renews_into_id.map_or_else(|| itself.clone(), |id| id.to_string()),
            itself,
            monthly: dollars(v.monthly_price_cents),
            paid_in_full: dollars(v.paid_in_full_price_cents),
            initial_fee: dollars(v.initial_fee_cents),
            discount: v.non_plan_discount_percent.map(|p| p.to_string()).unwrap_or_default(),
            agreement_text: v.agreement_text.clone(),
            items: plan.items.iter().map(ItemFields::of).collect(),
        }
    }
}

impl ItemFields {
    fn of(item: &plan_template_item::Model) -> Self {
        Self {
            description: item.description.clone(),
            code: item.code.clone(),
            alternates: item.alternates().collect::<Vec<_>>().join(" "),
            quantity: item.quantity.map(|q| q.to_string()).unwrap_or_default(),
            retail: dollars(item.retail_price_cents),
            add_on: item.add_on_monthly_cents.map(dollars).unwrap_or_default(),
        }
    }
}

impl Row {
    fn new(plan: PlanTemplate) -> Self {
        Self { form: Form::of(&plan), plan }
    }

    fn monthly(&self) -> String {
        dollars(self.plan.version.monthly_price_cents)
    }

    fn paid_in_full(&self) -> String {
        dollars(self.plan.version.paid_in_full_price_cents)
    }

    /// Who is sold it: species and ages in words.
    fn audience(&self) -> String {
        let v = &self.plan.version;
        let species = v.species.clone().unwrap_or_else(|| "any species".to_owned());
        match v.max_age_months {
            Some(max) => format!("{species}, {}–{max} months", v.min_age_months),
            None => format!("{species}, from {} months", v.min_age_months),
        }
    }

    /// The template it renews into, by code.
    fn renews_into(&self, all: &[Row]) -> String {
        match self.plan.version.renews_into_id {
            Some(id) if id != self.plan.template.id => {
                all.iter().find(|r| r.plan.template.id == id).map_or_else(String::new, |r| r.plan.template.code.clone())
            }
            _ => "itself".to_owned(),
        }
    }
}

/// Cents as the forms show dollars: `1234` → `12.34`.
fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansTemplate {
    chrome: Chrome,
    notice: Option<String>,
    rows: Vec<Row>,
    can_manage: bool,
    blank: Form,
    /// The practice's cancellation policy, by its stored name.
    cancellation: String,
    /// Its renewal rules.
    renewals: petbridge_domain::kernel::practice::RenewalSettings,
    /// Its multi-pet discount in dollars, as the form shows it.
    multi_pet_discount: String,
    /// The agreement's letterhead lines.
    letterhead: Vec<String>,
    /// The final-failure policy, by its stored name.
    final_failure: String,
    /// The late fee in dollars, as the form shows it.
    late_fee: String,
}

impl PlansTemplate {
    /// The policies a practice chooses from, with what each means.
    fn policies(&self) -> [(&'static str, &'static str); 5] {
        [
            (
                "usage_less_paid",
                "The items used and the enrolment fee, less what was paid (an overpayment is refunded)",
            ),
            ("remaining_payments", "Every payment still scheduled"),
            ("lesser", "The lesser of those two"),
            ("nothing", "Nothing more"),
            ("manager_figure", "A figure the cancelling manager gives"),
        ]
    }

    /// What may follow a payment's last declined retry.
    fn final_failures(&self) -> [(&'static str, &'static str); 3] {
        [
            ("keep", "The plan keeps its benefits while the owner is asked to pay"),
            ("hold", "The plan goes on hold until staff release it"),
            ("late_fee", "A late fee is added to the plan, due at once"),
        ]
    }
}

#[derive(Deserialize)]
pub(crate) struct PlansQuery {
    done: Option<String>,
}

/// The Wellness plans page.
#[handler]
pub(crate) async fn plans_page(
    StaffPage(principal): StaffPage,
    platform: Data<&Platform>,
    Query(query): Query<PlansQuery>,
) -> poem::Result<Response> {
    if let Some(refused) = refuse(&platform, &principal, Permission::PlansView).await? {
        return Ok(refused);
    }
    let templates = plan_templates::list(&platform, principal.scope(), true).await.map_err(server_error)?;
    let settings = practices::get(&platform, principal.scope()).await.map_err(server_error)?.settings;
    render(&PlansTemplate {
        chrome: Chrome::new(&platform, &principal, "plans").await?,
        notice: query.done,
        rows: templates.into_iter().map(Row::new).collect(),
        can_manage: principal.level.grants(Permission::ItemsManage),
        blank: Form::blank(),
        cancellation: settings.plan_cancellation.to_string(),
        renewals: settings.renewals,
        multi_pet_discount: dollars(settings.multi_pet_discount_cents),
        letterhead: settings.letterhead,
        final_failure: settings.payments.final_failure.to_string(),
        late_fee: dollars(settings.payments.late_fee_cents),
    })
}
