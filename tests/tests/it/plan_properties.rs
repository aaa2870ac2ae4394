//! A property of the plan lifecycle, through the real server: for random
//! plans and random sequences of change, hold, release and waiting, what was
//! collected plus what is still owed always equals what the plan's current
//! terms say (less what a release forgave), to the cent; a cancellation at
//! the end leaves exactly what the practice's policy says; and a payment
//! once collected is never cancelled.

use std::collections::HashSet;

use chrono::NaiveDate;
use petbridge_tests::TestApp;
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use reqwest::Method;
use serde_json::{Value, json};

/// A template's prices: monthly, paid in full, fee, and its term.
#[derive(Debug, Clone, Copy)]
struct Prices {
    monthly: i64,
    in_full: i64,
    fee: i64,
    term: i64,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Change(usize),
    Hold,
    Release(&'static str),
    Wait(i64),
}

#[derive(Debug, Clone)]
struct Case {
    templates: Vec<Prices>,
    start: usize,
    in_full: bool,
    at_desk: bool,
    steps: Vec<Step>,
    policy: &'static str,
    refund: &'static str,
    figure: i64,
}

fn case() -> impl Strategy<Value = Case> {
    let prices = (100..20_000i64, 1_000..200_000i64, 0..10_000i64, prop_oneof![4 => Just(12i64), 1 => Just(6i64)])
        .prop_map(|(monthly, in_full, fee, term)| Prices { monthly, in_full, fee, term });
    let step = prop_oneof![
        3 => (0..3usize).prop_map(Step::Change),
        2 => Just(Step::Hold),
        2 => prop_oneof![Just("charge"), Just("move_after_term"), Just("cancel")].prop_map(Step::Release),
        2 => (1..75i64).prop_map(Step::Wait),
    ];
    (
        prop::collection::vec(prices, 3),
        0..3usize,
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(step, 0..9),
        prop_oneof![
            Just("remaining_payments"),
            Just("usage_less_paid"),
            Just("lesser"),
            Just("nothing"),
            Just("manager_figure")
        ],
        prop_oneof![Just("elsewhere"), Just("keep")],
        0..50_000i64,
    )
        .prop_map(|(templates, start, in_full, at_desk, steps, policy, refund, figure)| Case {
            templates,
            start,
            in_full,
            at_desk,
            steps,
            policy,
            refund,
            figure,
        })
}

fn amount(p: &Value) -> i64 {
    p["amount_cents"].as_i64().unwrap()
}

fn sums(plan: &Value) -> (i64, i64) {
    let (mut collected, mut unpaid) = (0, 0);
    for p in plan["payments"].as_array().unwrap() {
        match p["status"].as_str().unwrap() {
            "scheduled" | "failed" | "past_due" => unpaid += amount(p),
            "paid" | "paid_external" | "refunded" | "partially_refunded" => {
                collected += amount(p) - p["refunded_cents"].as_i64().unwrap();
            }
            "cancelled" => {}
            other => panic!("a payment status this property does not know: {other}"),
        }
    }
    (collected, unpaid)
}

fn term_price(prices: Prices, in_full: bool) -> i64 {
    if in_full { prices.in_full } else { prices.monthly * prices.term }
}

struct World<'a> {
    app: &'a TestApp,
    admin: String,
    client: String,
    key: String,
    cases: usize,
}

impl World<'_> {
    fn today(&self) -> NaiveDate {
        self.app.clock_now().with_timezone(&chrono_tz::America::Denver).date_naive()
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app.staff_call(&self.admin, method, path.to_owned(), body).await
    }

    /// A new pet for each case, so a case that fails leaves the next one free.
    async fn pet(&mut self) -> String {
        self.cases += 1;
        let name = format!("Pet {}", self.cases);
        let now = self.app.clock_now();
        let batch = json!({ "pets": [{ "pms_id": format!("P{}", self.cases), "updated_at": now.to_rfc3339(), "client_pms_id": "C1", "name": name, "species": "Dog" }] });
        assert_eq!(self.app.sync(&self.key, &batch).await.0, 200);
        let (_, detail) = self.app.get_json(&format!("/api/dashboard/v1/clients/{}", self.client), &self.admin).await;
        let pets = detail["pets"].as_array().unwrap();
        pets.iter().find(|p| p["name"] == name.as_str()).unwrap()["id"].as_str().unwrap().to_owned()
    }

    async fn run(&mut self, case: &Case) -> Result<(), TestCaseError> {
        let mut ids = Vec::new();
        for (n, prices) in case.templates.iter().enumerate() {
            let draft = json!({
                "code": format!("p{}-{n}", self.cases + 1), "name": format!("Plan {n}"),
                "term_months": prices.term, "monthly_price_cents": prices.monthly,
                "paid_in_full_price_cents": prices.in_full, "initial_fee_cents": prices.fee,
                "agreement_text": "Not insurance.",
                "items": [{ "description": "Exam", "code": "WP100", "quantity": 2, "retail_price_cents": 6_500 }]
            });
            let (status, made) = self.call(Method::POST, "/plan-templates", Some(draft)).await;
            prop_assert_eq!(status, 201, "{}", made);
            ids.push(made["id"].as_str().unwrap().to_owned());
        }
        let pet = self.pet().await;
        let enrolment = json!({
            "pet_id": pet, "template_id": ids[case.start], "skip_payment_method": true,
            "skip_initial_charge": case.at_desk, "billing": if case.in_full { "paid_in_full" } else { "monthly" },
        });
        let (status, mut plan) =
            self.call(Method::POST, &format!("/clients/{}/plans", self.client), Some(enrolment)).await;
        prop_assert_eq!(status, 201, "{}", plan);
        let id = plan["id"].as_str().unwrap().to_owned();
        let fee = case.templates[case.start].fee;
        let (mut current, mut forgiven, mut on_hold) = (case.start, 0i64, false);
        let mut collected_ever: HashSet<i64> = HashSet::new();

        for step in &case.steps {
            match *step {
                Step::Change(to) => {
                    let (status, answer) = self
                        .call(Method::POST, &format!("/plans/{id}/change"), Some(json!({ "template_id": ids[to] })))
                        .await;
                    let same_term = case.templates[to].term == case.templates[current].term;
                    match (status, answer["code"].as_str()) {
                        (200, _) => {
                            prop_assert!(same_term && to != current, "{:?} changed: {}", step, answer);
                            current = to;
                            plan = answer;
                        }
                        (422, Some("plan_unchanged")) => prop_assert_eq!(to, current),
                        (422, Some("plan_term_differs")) => prop_assert!(!same_term),
                        // A fall larger than what is still scheduled.
                        (422, Some("change_needs_refund")) => prop_assert!(
                            term_price(case.templates[to], case.in_full)
                                < term_price(case.templates[current], case.in_full)
                        ),
                        _ => prop_assert!(false, "{:?}: {} {}", step, status, answer),
                    }
                }
                Step::Hold => {
                    let (status, answer) = self
                        .call(Method::POST, &format!("/plans/{id}/hold"), Some(json!({ "reason": "financial" })))
                        .await;
                    if on_hold {
                        prop_assert_eq!((status, answer["code"].as_str()), (409, Some("plan_on_hold")));
                    } else {
                        prop_assert_eq!(status, 200, "{}", answer);
                        on_hold = true;
                        plan = answer;
                    }
                }
                Step::Release(missed) => {
                    let (status, answer) = self
                        .call(Method::POST, &format!("/plans/{id}/release"), Some(json!({ "missed": missed })))
                        .await;
                    if !on_hold {
                        prop_assert_eq!((status, answer["code"].as_str()), (409, Some("plan_not_on_hold")));
                        continue;
                    }
                    prop_assert_eq!(status, 200, "{}", answer);
                    if missed == "cancel" {
                        // What fell due from the hold's first day to today, reckoned here.
                        let held_on: NaiveDate = plan["held_on"].as_str().unwrap().parse().unwrap();
                        let today = self.today();
                        forgiven += plan["payments"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|p| p["status"] == "scheduled")
                            .filter(|p| {
                                let due: NaiveDate = p["due_on"].as_str().unwrap().parse().unwrap();
                                due >= held_on && due <= today
                            })
                            .map(amount)
                            .sum::<i64>();
                    }
                    on_hold = false;
                    plan = answer;
                }
                Step::Wait(days) => {
                    self.app.clock.advance(chrono::Duration::days(days));
                    // Sessions end while the clock moves on: sign in again.
                    self.admin = self.app.login("maple-vets", "admin").await;
                    plan = self.call(Method::GET, &format!("/plans/{id}"), None).await.1;
                }
            }
            let owed = fee + term_price(case.templates[current], case.in_full) - forgiven;
            let (collected, unpaid) = sums(&plan);
            prop_assert_eq!(collected + unpaid, owed, "after {:?}: {}", step, plan);
            for p in plan["payments"].as_array().unwrap() {
                let number = p["number"].as_i64().unwrap();
                if p["status"] == "cancelled" {
                    prop_assert!(!collected_ever.contains(&number), "payment {} was collected, then cancelled", number);
                } else if matches!(p["status"].as_str(), Some("paid" | "paid_external")) {
                    collected_ever.insert(number);
                }
            }
        }

        let (status, _) =
            self.call(Method::PATCH, "/practice/settings", Some(json!({ "plan_cancellation": case.policy }))).await;
        prop_assert_eq!(status, 200);
        let (collected, unpaid) = sums(&plan);
        let mut cancellation = json!({ "reason": "property", "refund": case.refund });
        if case.policy == "manager_figure" {
            cancellation["owed_cents"] = json!(case.figure);
        }
        let (status, cancelled) = self.call(Method::POST, &format!("/plans/{id}/cancel"), Some(cancellation)).await;
        prop_assert_eq!(status, 200, "{}", cancelled);
        let usage_owed = (fee - collected).max(0);
        let overpaid = if case.refund == "elsewhere" { (collected - fee).max(0) } else { 0 };
        let expected = match case.policy {
            "remaining_payments" => collected + unpaid,
            "usage_less_paid" => collected - overpaid + usage_owed,
            "lesser" => collected - overpaid + unpaid.min(usage_owed),
            "nothing" => collected,
            _ => collected + case.figure,
        };
        let (after_collected, after_unpaid) = sums(&cancelled);
        prop_assert_eq!(after_collected + after_unpaid, expected, "{:?} {}", case.policy, cancelled);
        let still_owed: Vec<&Value> =
            cancelled["payments"].as_array().unwrap().iter().filter(|p| p["status"] == "scheduled").collect();
        prop_assert!(still_owed.len() <= 1 && still_owed.iter().all(|p| p["kind"] == "cancellation"), "{}", cancelled);
        for p in cancelled["payments"].as_array().unwrap() {
            if p["status"] == "cancelled" {
                prop_assert!(!collected_ever.contains(&p["number"].as_i64().unwrap()));
            }
        }
        Ok(())
    }
}

#[test]
fn paid_and_owed_always_equal_what_the_plan_and_then_the_policy_say() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = runtime.block_on(petbridge_tests::spawn_app());
    let mut world = runtime.block_on(async {
        let fixture = app.practice("maple-vets").await;
        let admin = app.login("maple-vets", "admin").await;
        let key = app.sync_key(&fixture.practice).await;
        let now = app.clock_now();
        let batch = json!({ "clients": [{ "pms_id": "C1", "updated_at": now.to_rfc3339(), "first_name": "Ann", "last_name": "Jones", "last_transaction_on": now.date_naive() }] });
        assert_eq!(app.sync(&key, &batch).await.0, 200);
        let (_, listed) = app.get_json("/api/dashboard/v1/clients", &admin).await;
        let client = listed["items"][0]["id"].as_str().unwrap().to_owned();
        World { app: &app, admin, client, key, cases: 0 }
    });
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    let world = std::cell::RefCell::new(&mut world);
    runner
        .run(&case(), |case| runtime.block_on(world.borrow_mut().run(&case)))
        .unwrap_or_else(|failure| panic!("{failure}"));
}
