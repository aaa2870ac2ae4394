//! The PMS sync API: idempotent, order-independent upserts keyed by PMS ids,
//! per-record rejection, keys, and the batch record.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use petbridge_domain::{
    db::entities::{appointment, client, invoice, invoice_line, pet, reminder},
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder},
};
use petbridge_tests::{TestApp, at, spawn_app};
use serde_json::{Value, json};
use uuid::Uuid;

fn day(base: DateTime<Utc>, days: i64) -> NaiveDate {
    (base + Duration::days(days)).date_naive()
}

/// A practice's synced records, without server-made ids and times.
async fn snapshot(app: &TestApp, practice_id: Uuid) -> Vec<String> {
    let db = &app.platform.db;
    let mut lines = Vec::new();
    let clients = client::Entity::find()
        .filter(client::Column::PracticeId.eq(practice_id))
        .order_by_asc(client::Column::PmsId)
        .all(db)
        .await
        .unwrap();
    let pms_of = |id: Uuid| clients.iter().find(|c| c.id == id).and_then(|c| c.pms_id.clone());
    for c in &clients {
        lines.push(format!(
            "client {:?} {:?} {} {} {:?} {:?} {} {:?} {} {} {:?} {:?} {}",
            c.pms_id,
            c.pms_updated_at,
            c.first_name,
            c.last_name,
            c.email,
            c.phone,
            c.pms_active,
            c.last_transaction_on,
            c.account_status,
            c.pet_sync_status,
            c.earliest_due_on,
            c.last_activity_on,
            c.search_text
        ));
    }
    for p in pet::Entity::find()
        .filter(pet::Column::PracticeId.eq(practice_id))
        .order_by_asc(pet::Column::PmsId)
        .all(db)
        .await
        .unwrap()
    {
        lines.push(format!(
            "pet {:?} of {:?} {:?} {} {:?} {:?} {} {:?}",
            p.pms_id,
            pms_of(p.client_id),
            p.pms_updated_at,
            p.name,
            p.species,
            p.date_of_birth,
            p.pms_status,
            p.status_changed_at
        ));
    }
    for a in appointment::Entity::find()
        .filter(appointment::Column::PracticeId.eq(practice_id))
        .order_by_asc(appointment::Column::PmsId)
        .all(db)
        .await
        .unwrap()
    {
        lines.push(format!(
            "appointment {} {} {} {:?} {} {:?} {}",
            a.pms_id, a.pms_updated_at, a.client_pms_id, a.pet_pms_id, a.starts_at, a.reason, a.status
        ));
    }
    for r in reminder::Entity::find()
        .filter(reminder::Column::PracticeId.eq(practice_id))
        .order_by_asc(reminder::Column::PmsId)
        .all(db)
        .await
        .unwrap()
    {
        lines.push(format!(
            "reminder {} {} {} {} {} {} {}",
            r.pms_id, r.pms_updated_at, r.client_pms_id, r.pet_pms_id, r.service, r.due_on, r.status
        ));
    }
    for i in invoice::Entity::find()
        .filter(invoice::Column::PracticeId.eq(practice_id))
        .order_by_asc(invoice::Column::PmsId)
        .all(db)
        .await
        .unwrap()
    {
        lines.push(format!(
            "invoice {} {} {} {} {}",
            i.pms_id, i.pms_updated_at, i.client_pms_id, i.invoiced_on, i.voided
        ));
        for l in invoice_line::Entity::find()
            .filter(invoice_line::Column::InvoiceId.eq(i.id))
            .order_by_asc(invoice_line::Column::LineNo)
            .all(db)
            .await
            .unwrap()
        {
            lines.push(format!(
                "  line {} {} {} {:?} {:?} {} {}",
                l.line_no, l.code, l.quantity, l.pet_pms_id, l.provider, l.performed_on, l.voided
            ));
        }
    }
    lines
}

/// Four batches over the same records, with newer and older versions mixed.
fn batches(now: DateTime<Utc>) -> Vec<Value> {
    vec![
        json!({
            "clients": [
                { "pms_id": "C1", "updated_at": at(now, -600), "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "(303) 555-0101", "last_transaction_on": day(now, -30) },
                { "pms_id": "C2", "updated_at": at(now, -600), "first_name": "Alan", "last_name": "Turing", "email": "alan@example.com", "last_transaction_on": day(now, -400) }
            ],
            "pets": [
                { "pms_id": "P1", "updated_at": at(now, -600), "client_pms_id": "C1", "name": "Byron", "species": "Dog", "date_of_birth": "2019-04-01" }
            ]
        }),
        json!({
            // A pet whose owner arrives in a later batch, and its reminders.
            "pets": [
                { "pms_id": "P2", "updated_at": at(now, -500), "client_pms_id": "C3", "name": "Enigma", "species": "Cat" }
            ],
            "reminders": [
                { "pms_id": "R1", "updated_at": at(now, -500), "client_pms_id": "C3", "pet_pms_id": "P2", "service": "Rabies vaccine", "due_on": day(now, -10) },
                { "pms_id": "R2", "updated_at": at(now, -500), "client_pms_id": "C1", "pet_pms_id": "P1", "service": "Annual exam", "due_on": day(now, 20) }
            ],
            "appointments": [
                { "pms_id": "A1", "updated_at": at(now, -500), "client_pms_id": "C1", "pet_pms_id": "P1", "starts_at": at(now, 60 * 24 * 3), "reason": "Exam" }
            ]
        }),
        json!({
            "clients": [
                { "pms_id": "C3", "updated_at": at(now, -400), "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com" },
                // Newer: Alan moved and bought something.
                { "pms_id": "C2", "updated_at": at(now, -100), "first_name": "Alan", "last_name": "Turing", "email": "alan.t@example.com", "last_transaction_on": day(now, -2) }
            ],
            "invoices": [
                { "pms_id": "I1", "updated_at": at(now, -400), "client_pms_id": "C3", "invoiced_on": day(now, -5), "lines": [
                    { "code": "wp-exam", "quantity": 1, "pet_pms_id": "P2", "provider": "Dr. Who" },
                    { "code": "RABIES", "quantity": 1.5, "pet_pms_id": "P2" }
                ]}
            ]
        }),
        json!({
            "clients": [
                // Older than batch 1's: never overwrites it.
                { "pms_id": "C1", "updated_at": at(now, -900), "first_name": "Augusta", "last_name": "King", "email": "augusta@example.com" }
            ],
            "pets": [
                { "pms_id": "P1", "updated_at": at(now, -50), "client_pms_id": "C1", "name": "Byron", "species": "Dog", "date_of_birth": "2019-04-01", "status": "deceased" }
            ],
            "reminders": [
                { "pms_id": "R1", "updated_at": at(now, -50), "client_pms_id": "C3", "pet_pms_id": "P2", "service": "Rabies vaccine", "due_on": day(now, -10), "status": "completed" }
            ],
            "invoices": [
                { "pms_id": "I1", "updated_at": at(now, -50), "client_pms_id": "C3", "invoiced_on": day(now, -5), "voided": true, "lines": [
                    { "code": "WP-EXAM", "quantity": 1, "pet_pms_id": "P2", "provider": "Dr. Who", "voided": true }
                ]}
            ]
        }),
    ]
}

#[tokio::test]
async fn batches_replayed_twice_or_shuffled_give_the_state_of_one_ordered_pass() {
    let app = spawn_app().await;
    let now = app.clock_now();
    let mut states = Vec::new();
    let orders: [&[usize]; 3] = [&[0, 1, 2, 3], &[0, 1, 2, 3, 0, 1, 2, 3], &[3, 1, 2, 0]];
    for (run, order) in orders.iter().enumerate() {
        let fixture = app.practice(&format!("replay-{run}")).await;
        let key = app.sync_key(&fixture.practice).await;
        let batches = batches(now);
        for index in order.iter() {
            let (status, body) = app.sync(&key, &batches[*index]).await;
            assert_eq!(status, 200, "{body}");
            assert!(body["errors"].as_array().unwrap().is_empty(), "{body}");
        }
        states.push(snapshot(&app, fixture.practice.id).await);
    }
    assert_eq!(states[0], states[1], "the same batches twice");
    assert_eq!(states[0], states[2], "the same batches in another order");
    let state = states[0].join("\n");
    assert!(state.contains("client Some(\"C1\")") && state.contains("Ada Lovelace"), "{state}");
    assert!(!state.contains("Augusta"), "an older version overwrote a newer one: {state}");
    assert!(state.contains("alan.t@example.com"), "{state}");
    assert!(state.contains("of Some(\"C3\")"), "the pet found its late owner: {state}");
    assert!(state.contains("line 1 WP-EXAM 1 "), "{state}");

    // Replaying a batch reports it unchanged.
    let fixture = app.practice("replay-report").await;
    let key = app.sync_key(&fixture.practice).await;
    let first = app.sync(&key, &batches(now)[0]).await.1;
    assert_eq!(first["clients"]["created"], 2);
    let again = app.sync(&key, &batches(now)[0]).await.1;
    assert_eq!(again["clients"]["unchanged"], 2, "{again}");
    assert_eq!(again["pets"]["unchanged"], 1, "{again}");
    let stale = app.sync(&key, &batches(now)[3]).await.1;
    assert_eq!(stale["clients"]["stale"], 1, "{stale}");
}

#[tokio::test]
async fn an_invalid_record_is_rejected_with_its_reason_and_the_rest_applies() {
    let app = spawn_app().await;
    let fixture = app.practice("partial").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let batch = json!({
        "clients": [
            { "pms_id": "K1", "updated_at": at(now, 0), "first_name": "Kim", "last_name": "One", "email": "kim@example.com", "last_transaction_on": day(now, -1) },
            { "pms_id": "K2", "updated_at": at(now, 0), "first_name": "Bad", "last_name": "Email", "email": "not-an-email" },
            { "pms_id": "K3", "updated_at": at(now, 0), "first_name": "Lee", "last_name": "Three", "last_transaction_on": day(now, -1) }
        ],
        "pets": [
            { "pms_id": "Q1", "updated_at": at(now, 0), "client_pms_id": "K1", "name": "Rex", "status": "sleeping" }
        ]
    });
    let (status, body) = app.sync(&key, &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["clients"]["created"], 2);
    assert_eq!(body["clients"]["rejected"], 1);
    assert_eq!(body["pets"]["rejected"], 1);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!(errors[0]["kind"], "clients");
    assert_eq!(errors[0]["index"], 1);
    assert_eq!(errors[0]["pms_id"], "K2");
    assert_eq!(errors[0]["code"], "invalid_email");
    assert_eq!(errors[1]["code"], "invalid_status");

    let admin = app.login("partial", "admin").await;
    let (_, listed) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|c| c["last_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["One", "Three"]);
    let (status, recorded) = app.get_json("/api/dashboard/v1/sync/batches", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(recorded[0]["id"], body["id"]);
    assert_eq!(recorded[0]["errors"][0]["pms_id"], "K2");
    assert_eq!(recorded[0]["clients"]["received"], 3);

    // A body that is not a batch at all is refused whole.
    let (status, problem) = app.sync(&key, &json!({ "clients": [{ "pms_id": "X" }] })).await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test]
async fn five_thousand_records_apply_in_one_request() {
    let app = spawn_app().await;
    let fixture = app.practice("big-batch").await;
    let key = app.sync_key(&fixture.practice).await;
    let now = app.clock_now();
    let clients: Vec<Value> = (0..2500)
        .map(|i| json!({ "pms_id": format!("C{i}"), "updated_at": at(now, 0), "first_name": "Client", "last_name": format!("N{i:05}"), "email": format!("c{i}@example.com"), "last_transaction_on": day(now, -3) }))
        .collect();
    let pets: Vec<Value> = (0..2500)
        .map(|i| json!({ "pms_id": format!("P{i}"), "updated_at": at(now, 0), "client_pms_id": format!("C{i}"), "name": format!("Pet {i}") }))
        .collect();
    let (status, body) = app.sync(&key, &json!({ "clients": clients, "pets": pets })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["clients"]["created"], 2500);
    assert_eq!(body["pets"]["created"], 2500);
    let admin = app.login("big-batch", "admin").await;
    let (_, found) = app.get_json("/api/dashboard/v1/clients?search=Pet%202499", &admin).await;
    assert_eq!(found["items"][0]["last_name"], "N02499", "{found}");
}

#[tokio::test]
async fn keys_are_per_practice_and_can_be_rotated_and_revoked() {
    let app = spawn_app().await;
    let fixture = app.practice("keyed").await;
    app.practice("other-keyed").await;
    let admin = app.login("keyed", "admin").await;
    let now = app.clock_now();
    let batch = json!({ "clients": [{ "pms_id": "Z1", "updated_at": at(now, 0), "last_name": "Zed", "last_transaction_on": day(now, -1) }] });

    assert_eq!(app.sync("", &batch).await.0, 401);
    assert_eq!(app.sync("pbsync_guess", &batch).await.0, 401);

    let created: Value = app
        .client
        .post(app.url("/api/dashboard/v1/sync/keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "front desk" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.sync(&secret, &batch).await.0, 200);
    let (_, keys) = app.get_json("/api/dashboard/v1/sync/keys", &admin).await;
    assert!(keys.to_string().contains("front desk") && !keys.to_string().contains(&secret), "{keys}");

    let rotated: Value = app
        .client
        .post(app.url(&format!("/api/dashboard/v1/sync/keys/{id}/rotate")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(app.sync(&secret, &batch).await.0, 401, "the old key stops at rotation");
    assert_eq!(app.sync(&new_secret, &batch).await.0, 200);
    let new_id = rotated["key"]["id"].as_str().unwrap();
    let revoked = app
        .client
        .delete(app.url(&format!("/api/dashboard/v1/sync/keys/{new_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(app.sync(&new_secret, &batch).await.0, 401);

    // Another practice's administrator sees neither the key nor the client.
    let other = app.login("other-keyed", "admin").await;
    let (status, _) = app.get_json(&format!("/api/dashboard/v1/sync/keys/{new_id}/rotate"), &other).await;
    assert_eq!(status, 405);
    let response = app
        .client
        .post(app.url(&format!("/api/dashboard/v1/sync/keys/{id}/rotate")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let (_, theirs) = app.get_json("/api/dashboard/v1/clients", &other).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);
    let (_, ours) = app.get_json("/api/dashboard/v1/clients", &admin).await;
    let ours_id = ours["items"][0]["id"].as_str().unwrap();
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/clients/{ours_id}"), &other).await.0, 404);
    let _ = fixture;
}
