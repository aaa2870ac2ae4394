//! Chat between owners (app socket, app API) and staff (dashboard socket,
//! staff API): stored before it is heard, once per sender id, in seq order,
//! resumed after a cut; receipts, typing, the delayed push that a read
//! cancels; one-way notifications; and nobody reaching another household's
//! or another practice's conversation.

use petbridge_domain::db::entities::delivery::DeliveryStatus;
use std::{collections::HashMap, time::Duration};

use petbridge_domain::db::entities::delivery;
use petbridge_tests::{TestApp, services::require_redis, spawn_app, ws::WsClient};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

/// A message frame's seq.
fn seq(frame: &Value) -> i64 {
    frame["message"]["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {frame}"))
}

#[tokio::test]
async fn owner_and_staff_chat_with_receipts_typing_resume_and_a_push_only_when_unread() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    let device = json!({ "token": "pat-phone", "platform": "android" });
    assert_eq!(app.app_call(Method::POST, "/devices", Some(&owner), Some(device)).await.0, 204);
    let session = app.page_login("maple-vets", "admin").await;
    let mut staff = app.dashboard_socket(&session).await;
    assert_eq!(staff.next_of("hello").await["side"], "staff");
    // A client says where it stands first; nothing to catch up on yet.
    staff.send_json(&json!({ "type": "resume", "conversations": [] })).await;

    // A ticket opens one socket, once.
    let (status, ticket) = app.app_call(Method::POST, "/chat/tickets", Some(&owner), None).await;
    assert_eq!(status, 201);
    let url = format!("ws://{}/ws/app?ticket={}", app.address, ticket["ticket"].as_str().unwrap());
    let mut pat = WsClient::connect(&url, &[]).await.unwrap();
    assert!(WsClient::connect(&url, &[]).await.is_err(), "a used ticket opens nothing");
    let hello = pat.next_of("hello").await;
    assert_eq!(hello["last_seq"], 0);
    let conversation_id = hello["conversation_id"].as_str().unwrap().to_owned();

    // Stored once per sender id; the practice hears it live.
    pat.send_json(&json!({ "type": "send", "client_message_id": "m-1", "body": "Is Mochi's food in?" })).await;
    let ack = pat.next_of("ack").await;
    assert_eq!((seq(&ack), ack["replayed"].clone()), (1, json!(false)));
    pat.send_json(&json!({ "type": "send", "client_message_id": "m-1", "body": "Is Mochi's food in?" })).await;
    let again = pat.next_of("ack").await;
    assert_eq!((seq(&again), again["replayed"].clone()), (1, json!(true)));
    assert_eq!(again["message"]["id"], ack["message"]["id"]);
    let heard = staff.next_of("message").await;
    assert_eq!((seq(&heard), heard["message"]["body"].clone()), (1, json!("Is Mochi's food in?")));
    assert_eq!(heard["message"]["author"], "owner");

    // The practice answers, types, and sees the receipt.
    staff.send_json(&json!({ "type": "typing", "conversation_id": conversation_id })).await;
    let typing = pat.next_of("typing").await;
    assert_eq!((typing["by"].clone(), typing["name"].clone()), (json!("staff"), json!("admin (test)")));
    let answer = json!({ "type": "send", "conversation_id": conversation_id, "client_message_id": "s-1", "body": "Yes, ready at the desk" });
    staff.send_json(&answer).await;
    assert_eq!(seq(&staff.next_of("ack").await), 2);
    let reply = pat.next_of("message").await;
    assert_eq!((seq(&reply), reply["message"]["author_name"].clone()), (2, json!("admin (test)")));
    pat.send_json(&json!({ "type": "read", "seq": 2 })).await;
    let receipt = staff.next_of("read").await;
    assert_eq!((receipt["by"].clone(), receipt["seq"].clone()), (json!("owner"), json!(2)));

    // Read before its push went out: no push. Unread: pushed after the delay.
    app.clock.advance(chrono::Duration::seconds(20));
    app.deliver_all().await;
    let pushes = app.deliveries_to("pat-phone").await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].status, DeliveryStatus::Skipped);
    assert_eq!(pushes[0].last_error.as_deref(), Some("read in the app before the push went out"));
    pat.close().await;

    // Cut off, the owner misses three answers (sent over REST) and resumes.
    let token = app.login("maple-vets", "admin").await;
    for n in 0..3 {
        let body = json!({ "client_message_id": format!("rest-{n}"), "body": format!("Answer {n}") });
        let (status, _) =
            app.staff_post(&token, &format!("/conversations/{conversation_id}/messages"), Some(body)).await;
        assert_eq!(status, 201);
    }
    let mut pat = app.app_socket(&owner).await;
    assert_eq!(pat.next_of("hello").await["last_seq"], 5);
    pat.send_json(&json!({ "type": "resume", "conversations": [{ "last_seq": 2 }] })).await;
    let resumed: Vec<i64> = [pat.next_of("message").await, pat.next_of("message").await, pat.next_of("message").await]
        .iter()
        .map(seq)
        .collect();
    assert_eq!(resumed, vec![3, 4, 5]);
    app.clock.advance(chrono::Duration::seconds(20));
    app.deliver_all().await;
    let sent =
        app.deliveries_to("pat-phone").await.into_iter().filter(|d| d.status == delivery::DeliveryStatus::Sent).count();
    assert_eq!(sent, 3, "each unread answer became a push");

    // History over REST, both sides; the inbox counts what staff have not read.
    let (status, page) = app.app_call(Method::GET, "/conversation/messages?limit=2", Some(&owner), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        page["items"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(),
        [5, 4]
    );
    let (_, older) = app
        .app_call(Method::GET, &format!("/conversation/messages?before_seq={}", page["next_seq"]), Some(&owner), None)
        .await;
    assert_eq!(older["items"].as_array().unwrap().len(), 3);
    let (_, inbox) = app.get_json("/api/dashboard/v1/conversations", &token).await;
    assert_eq!(inbox["items"][0]["conversation"]["id"], conversation_id.as_str());
    assert_eq!(inbox["items"][0]["client_name"], "Pat Owner");
    assert_eq!(inbox["items"][0]["last_message"]["body"], "Answer 2");
    let not_staff = app.owner_account("pat@example.com").await.id;
    let patch = json!({ "assigned_to": not_staff });
    let response = app
        .client
        .patch(app.url(&format!("/api/dashboard/v1/conversations/{conversation_id}")))
        .bearer_auth(&token)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422, "only a staff member of the practice can be assigned");
    let close = json!({ "status": "closed" });
    let response = app
        .client
        .patch(app.url(&format!("/api/dashboard/v1/conversations/{conversation_id}")))
        .bearer_auth(&token)
        .json(&close)
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "closed");
    let (_, closed) = app.get_json("/api/dashboard/v1/conversations?status=closed", &token).await;
    assert_eq!(closed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_sends_are_refused_with_a_code_and_store_nothing() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    let mut pat = app.app_socket(&owner).await;
    pat.next_of("hello").await;
    pat.send_json(&json!({ "type": "send", "client_message_id": "e-1", "body": "   " })).await;
    let error = pat.next_of("error").await;
    assert_eq!((error["code"].clone(), error["client_message_id"].clone()), (json!("invalid_message"), json!("e-1")));
    pat.send_json(&json!({ "type": "shout" })).await;
    assert_eq!(pat.next_of("error").await["code"], "invalid_frame");
    let long = "x".repeat(4_001);
    let (status, body) = app
        .app_call(
            Method::POST,
            "/conversation/messages",
            Some(&owner),
            Some(json!({ "client_message_id": "e-2", "body": long })),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (422, json!("invalid_message")));
    let (_, conversation) = app.app_call(Method::GET, "/conversation", Some(&owner), None).await;
    assert_eq!(conversation["last_seq"], 0, "nothing was stored");

    // An unverified owner gets no ticket; a made-up ticket opens nothing.
    let unverified = app.sign_up("maple-vets", "new@example.com").await;
    let (status, _) = app.app_call(Method::POST, "/chat/tickets", unverified["access_token"].as_str(), None).await;
    assert_eq!(status, 403);
    assert!(WsClient::connect(&format!("ws://{}/ws/app?ticket=made-up", app.address), &[]).await.is_err());
}

#[tokio::test]
async fn a_burst_of_sends_gets_an_answer_each_in_order_and_stores_the_good_ones_once() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    let owner = app.verified_owner("maple-vets", "pat@example.com").await;
    let session = app.page_login("maple-vets", "admin").await;
    let mut staff = app.dashboard_socket(&session).await;
    staff.next_of("hello").await;
    staff.send_json(&json!({ "type": "resume", "conversations": [] })).await;
    let mut pat = app.app_socket(&owner).await;
    pat.next_of("hello").await;

    let send = |id: &str, body: &str| json!({ "type": "send", "client_message_id": id, "body": body });
    pat.send_burst(&[
        send("b-1", "Mochi ate a sock"),
        send("b-2", "   "),
        json!({ "type": "typing" }),
        send("b-3", "He seems fine now"),
        send("b-1", "Mochi ate a sock"),
    ])
    .await;
    let mut answers = Vec::new();
    while answers.len() < 4 {
        let frame = pat.next_json().await;
        if frame["type"] == "ack" || frame["type"] == "error" {
            answers.push(frame);
        }
    }
    let summary: Vec<(Value, Value, Value)> = answers
        .iter()
        .map(|a| (a["client_message_id"].clone(), a["message"]["seq"].clone(), a["code"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("b-1"), json!(1), Value::Null),
            (json!("b-2"), Value::Null, json!("invalid_message")),
            (json!("b-3"), json!(2), Value::Null),
            (json!("b-1"), json!(1), Value::Null),
        ]
    );
    assert_eq!(answers[3]["replayed"], true);
    assert_eq!(answers[3]["message"]["id"], answers[0]["message"]["id"]);

    // The practice hears each stored message once, in seq order.
    let heard = [staff.next_of("message").await, staff.next_of("message").await];
    assert_eq!(heard.iter().map(seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(heard[1]["message"]["body"], "He seems fine now");
    while let Some(frame) = staff.try_next_json(Duration::from_millis(300)).await {
        assert_ne!(frame["type"], "message", "heard twice: {frame}");
    }
    let (_, conversation) = app.app_call(Method::GET, "/conversation", Some(&owner), None).await;
    assert_eq!(conversation["last_seq"], 2);
}

#[tokio::test]
async fn nobody_reaches_another_households_or_another_practices_conversation() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let sam = app.verified_owner("maple-vets", "sam@example.com").await;
    let (_, sams) = app.app_call(Method::GET, "/conversation", Some(&sam), None).await;
    let sams_id = sams["id"].as_str().unwrap().to_owned();
    let maple = app.login("maple-vets", "admin").await;
    let (status, _) = app
        .staff_post(
            &maple,
            &format!("/conversations/{sams_id}/messages"),
            Some(json!({ "client_message_id": "a", "body": "Hi Sam" })),
        )
        .await;
    assert_eq!(status, 201);

    // Pat names Sam's conversation: not found, and nothing of Sam's comes to Pat.
    let mut socket = app.app_socket(&pat).await;
    socket.next_of("hello").await;
    for frame in [
        json!({ "type": "send", "conversation_id": sams_id, "client_message_id": "x", "body": "hello?" }),
        json!({ "type": "read", "conversation_id": sams_id, "seq": 1 }),
        json!({ "type": "resume", "conversations": [{ "conversation_id": sams_id, "last_seq": 0 }] }),
    ] {
        socket.send_json(&frame).await;
        assert_eq!(socket.next_of("error").await["code"], "not_found", "{frame}");
    }
    assert!(socket.try_next_json(Duration::from_millis(200)).await.is_none(), "no frame of Sam's reached Pat");

    // Another practice's staff: 404 over REST, not_found on the socket.
    let oak = app.login("oak-vets", "admin").await;
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/conversations/{sams_id}"), &oak).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/conversations/{sams_id}/messages"), &oak).await.0, 404);
    let (status, _) = app
        .staff_post(
            &oak,
            &format!("/conversations/{sams_id}/messages"),
            Some(json!({ "client_message_id": "b", "body": "Hi" })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.staff_post(&oak, &format!("/conversations/{sams_id}/read"), Some(json!({ "seq": 1 }))).await;
    assert_eq!(status, 404);
    let (_, oak_inbox) = app.get_json("/api/dashboard/v1/conversations", &oak).await;
    assert_eq!(oak_inbox["items"].as_array().unwrap().len(), 0);
    let session = app.page_login("oak-vets", "admin").await;
    let mut oak_socket = app.dashboard_socket(&session).await;
    oak_socket.next_of("hello").await;
    oak_socket
        .send_json(&json!({ "type": "send", "conversation_id": sams_id, "client_message_id": "c", "body": "Hi" }))
        .await;
    assert_eq!(oak_socket.next_of("error").await["code"], "not_found");
    let (_, history) = app.app_call(Method::GET, "/conversation/messages", Some(&sam), None).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "only the practice's own answer was stored");

    // Notifications: Sam's inbox only; another practice cannot send or list them.
    let sam_client = app.owner_account("sam@example.com").await.client_id;
    let note = json!({ "title": "Lab results", "body": "Mochi's bloodwork is normal." });
    let (status, sent) =
        app.staff_post(&maple, &format!("/clients/{sam_client}/notifications"), Some(note.clone())).await;
    assert_eq!(status, 201);
    assert_eq!(app.staff_post(&oak, &format!("/clients/{sam_client}/notifications"), Some(note)).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/dashboard/v1/clients/{sam_client}/notifications"), &oak).await.0, 404);
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&sam), None).await;
    assert_eq!(inbox["items"][0]["title"], "Lab results");
    assert!(inbox["items"][0]["read_at"].is_null());
    let id = sent["id"].as_str().unwrap();
    assert_eq!(app.app_call(Method::POST, &format!("/notifications/{id}/read"), Some(&pat), None).await.0, 404);
    let (status, read) = app.app_call(Method::POST, &format!("/notifications/{id}/read"), Some(&sam), None).await;
    assert_eq!(status, 200);
    assert!(read["read_at"].is_string());
    let (_, pats) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    assert_eq!(pats["items"].as_array().unwrap().len(), 0);
    let (_, listed) = app.get_json(&format!("/api/dashboard/v1/clients/{sam_client}/notifications"), &maple).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

/// A seeded xorshift: the same cuts on every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// A chat client that remembers what it saw and resumes after each cut,
/// sending again whatever was not acknowledged, as an app does.
struct Participant {
    socket: Option<WsClient>,
    token: String,
    owner: bool,
    /// Sends not acknowledged yet, by client message id.
    pending: Vec<Value>,
    /// Per conversation: seq → message id, as this client saw them.
    seen: HashMap<String, Vec<(i64, String)>>,
}

impl Participant {
    fn record(&mut self, frame: &Value) {
        assert_ne!(frame["type"], "error", "{frame}");
        if frame["type"] == "ack" {
            self.pending.retain(|sent| sent["client_message_id"] != frame["client_message_id"]);
        }
        if frame["type"] != "message" {
            return;
        }
        let conversation = frame["message"]["conversation_id"].as_str().unwrap().to_owned();
        let entry = (seq(frame), frame["message"]["id"].as_str().unwrap().to_owned());
        let seen = self.seen.entry(conversation).or_default();
        // Resumes may repeat a message; a client keeps one copy per seq, and order must hold.
        if seen.last().is_some_and(|(last, _)| entry.0 <= *last) {
            assert!(seen.contains(&entry), "a different message under a seen seq: {entry:?}");
            return;
        }
        assert_eq!(entry.0, seen.last().map_or(0, |(last, _)| *last) + 1, "a gap before {entry:?}");
        seen.push(entry);
    }

    async fn connect(&mut self, app: &TestApp, conversations: &[String]) {
        let mut socket =
            if self.owner { app.app_socket(&self.token).await } else { app.dashboard_socket(&self.token).await };
        socket.next_of("hello").await;
        let positions: Vec<Value> = conversations
            .iter()
            .map(|id| json!({ "conversation_id": id, "last_seq": self.seen.get(id).and_then(|s| s.last()).map_or(0, |(seq, _)| *seq) }))
            .collect();
        socket.send_json(&json!({ "type": "resume", "conversations": positions })).await;
        for unacknowledged in &self.pending {
            socket.send_json(unacknowledged).await;
        }
        self.socket = Some(socket);
    }

    async fn send(&mut self, frame: Value) {
        self.pending.push(frame.clone());
        self.socket.as_mut().unwrap().send_json(&frame).await;
    }

    async fn drain(&mut self, wait: Duration) {
        while let Some(socket) = self.socket.as_mut() {
            let Some(frame) = socket.try_next_json(wait).await else { break };
            self.record(&frame);
        }
    }
}

#[tokio::test]
async fn fifty_owners_and_five_staff_with_cuts_see_every_message_once_in_order() {
    const OWNERS: usize = 50;
    const STAFF: usize = 5;
    const MESSAGES: usize = 5_000;
    let app = spawn_app().await;
    let fixture = app.practice("maple-vets").await;
    let mut owners = Vec::new();
    let mut conversations = Vec::new();
    for n in 0..OWNERS {
        let token = app.verified_owner("maple-vets", &format!("owner{n}@example.com")).await;
        let (_, conversation) = app.app_call(Method::GET, "/conversation", Some(&token), None).await;
        conversations.push(conversation["id"].as_str().unwrap().to_owned());
        owners.push(Participant { socket: None, token, owner: true, pending: Vec::new(), seen: HashMap::new() });
    }
    let mut staff = Vec::new();
    for n in 0..STAFF {
        let name = format!("nurse{n}");
        app.staff(&fixture.practice, &name, petbridge_domain::kernel::permissions::SecurityLevel::Staff).await;
        let token = app.page_login("maple-vets", &name).await;
        staff.push(Participant { socket: None, token, owner: false, pending: Vec::new(), seen: HashMap::new() });
    }
    for (n, owner) in owners.iter_mut().enumerate() {
        owner.connect(&app, std::slice::from_ref(&conversations[n])).await;
    }
    for member in staff.iter_mut() {
        member.connect(&app, &conversations).await;
    }

    let mut dice = Dice(0x5eed_5000);
    let mut sent_ids = Vec::new();
    for n in 0..MESSAGES {
        let conversation = dice.below(OWNERS);
        let client_message_id = format!("chaos-{n}");
        let from_owner = dice.one_in(2);
        let sender = if from_owner { &mut owners[conversation] } else { &mut staff[dice.below(STAFF)] };
        let mut frame =
            json!({ "type": "send", "client_message_id": client_message_id, "body": format!("message {n}") });
        if !from_owner {
            frame["conversation_id"] = json!(conversations[conversation]);
        }
        sender.send(frame).await;
        // A cut at random, often before the sends on the old socket were acknowledged:
        // they go again on the new one, under the same ids, and are stored once.
        if dice.one_in(50) {
            sender.socket.take().unwrap().close().await;
            let positions = if from_owner { vec![conversations[conversation].clone()] } else { conversations.clone() };
            sender.connect(&app, &positions).await;
        }
        sent_ids.push(client_message_id);
        if n % 50 == 0 {
            for participant in owners.iter_mut().chain(staff.iter_mut()) {
                participant.drain(Duration::from_millis(1)).await;
            }
        }
    }
    futures_util::future::join_all(owners.iter_mut().chain(staff.iter_mut()).map(|p| p.drain(Duration::from_secs(2))))
        .await;
    assert!(owners.iter().chain(staff.iter()).all(|p| p.pending.is_empty()), "every send was acknowledged");

    // Every message stored exactly once, and every client's view is the server's history.
    let stored = petbridge_domain::db::entities::message::Entity::find().all(&app.platform.db).await.unwrap();
    let mut stored_ids: Vec<String> = stored.iter().filter_map(|m| m.client_message_id.clone()).collect();
    stored_ids.sort();
    sent_ids.sort();
    assert_eq!(stored_ids, sent_ids, "every send stored under its own id");
    assert_eq!(stored.len(), MESSAGES, "each send stored once, retries included");
    let mut history: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for message in &stored {
        history.entry(message.conversation_id.to_string()).or_default().push((message.seq, message.id.to_string()));
    }
    for messages in history.values_mut() {
        messages.sort();
    }
    for (n, owner) in owners.iter().enumerate() {
        let id = &conversations[n];
        assert_eq!(
            owner.seen.get(id).cloned().unwrap_or_default(),
            history.get(id).cloned().unwrap_or_default(),
            "owner {n}"
        );
    }
    for (n, member) in staff.iter().enumerate() {
        for id in &conversations {
            assert_eq!(
                member.seen.get(id).cloned().unwrap_or_default(),
                history.get(id).cloned().unwrap_or_default(),
                "staff {n}"
            );
        }
    }
    let pushes =
        delivery::Entity::find().filter(delivery::Column::Channel.eq("push")).all(&app.platform.db).await.unwrap();
    assert!(pushes.is_empty(), "the owners have no devices, so nothing is pushed");
}

#[tokio::test]
async fn two_instances_carry_chat_both_ways_through_redis() {
    let Some(_) = require_redis() else { return };
    let first = spawn_app().await;
    let second = first.second_instance().await;
    first.practice("maple-vets").await;
    let owner = first.verified_owner("maple-vets", "pat@example.com").await;
    let mut pat = first.app_socket(&owner).await;
    let conversation_id = pat.next_of("hello").await["conversation_id"].as_str().unwrap().to_owned();
    let session = second.page_login("maple-vets", "admin").await;
    let mut staff = second.dashboard_socket(&session).await;
    staff.next_of("hello").await;
    staff.send_json(&json!({ "type": "resume", "conversations": [] })).await;

    pat.send_json(&json!({ "type": "send", "client_message_id": "one", "body": "From the first instance" })).await;
    assert_eq!(staff.next_of("message").await["message"]["body"], "From the first instance");
    let answer = json!({ "type": "send", "conversation_id": conversation_id, "client_message_id": "two", "body": "From the second" });
    staff.send_json(&answer).await;
    // Pat's socket hears Pat's own message too (for the owner's other devices): skip it.
    let mut reply = pat.next_of("message").await;
    if seq(&reply) == 1 {
        reply = pat.next_of("message").await;
    }
    assert_eq!((seq(&reply), reply["message"]["body"].clone()), (2, json!("From the second")));
    staff.send_json(&json!({ "type": "typing", "conversation_id": conversation_id })).await;
    assert_eq!(pat.next_of("typing").await["by"], "staff");
    pat.send_json(&json!({ "type": "read", "seq": 2 })).await;
    assert_eq!(staff.next_of("read").await["seq"], 2);
}

#[tokio::test]
async fn the_client_page_sends_a_notification_and_shows_the_history_of_both() {
    let app = spawn_app().await;
    app.practice("maple-vets").await;
    app.practice("oak-vets").await;
    let pat = app.verified_owner("maple-vets", "pat@example.com").await;
    let send = json!({ "client_message_id": "p-1", "body": "Is Mochi's food in?" });
    assert_eq!(app.app_call(Method::POST, "/conversation/messages", Some(&pat), Some(send)).await.0, 201);
    let (_, conversation) = app.app_call(Method::GET, "/conversation", Some(&pat), None).await;
    let client_id = conversation["client_id"].as_str().unwrap().to_owned();

    let session = app.page_login("maple-vets", "admin").await;
    let cookie = format!("pb_session={session}");
    let page = || async {
        let response = app
            .client
            .get(app.url(&format!("/dashboard/clients/{client_id}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    };
    let path = format!("/clients/{client_id}/notifications");
    let notify = |csrf: String, body: &'static str| {
        let (app, session, path) = (&app, &session, &path);
        async move {
            app.page_api(session, &csrf, Method::POST, path, json!({ "title": "Maple Vets", "body": body })).await.0
        }
    };
    let html = page().await;
    assert!(html.contains("Is Mochi&#39;s food in?"), "the chat history shows the owner's message");
    assert!(html.contains("None sent."), "{html}");
    let csrf = petbridge_tests::hidden_field(&html, "csrf");

    // A blank notification is refused and stores nothing.
    assert_eq!(notify(csrf.clone(), "   ").await, 422);
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    assert_eq!(inbox["items"].as_array().unwrap().len(), 0);

    assert_eq!(notify(csrf, "Mochi's food is ready at the desk").await, 201);
    let (_, inbox) = app.app_call(Method::GET, "/notifications", Some(&pat), None).await;
    assert_eq!(inbox["items"][0]["body"], "Mochi's food is ready at the desk");
    assert!(page().await.contains("Mochi&#39;s food is ready at the desk"), "the page lists what was sent");

    // Start chat opens the client's conversation; another practice's client is not found.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = no_redirects
        .get(app.url(&format!("/dashboard/chat?client={client_id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/dashboard/chat?conversation={}", conversation["id"].as_str().unwrap()));
    let oak = app.page_login("oak-vets", "admin").await;
    for path in [format!("/dashboard/chat?client={client_id}"), location, format!("/dashboard/clients/{client_id}")] {
        let response = app.client.get(app.url(&path)).header("cookie", format!("pb_session={oak}")).send().await;
        assert_eq!(response.unwrap().status(), 404, "{path}");
    }
}
