//! The DLQ tool against the real broker, each test in a namespace of its own: letters written
//! by a real consumer runner are read back field by field, one is redriven to the consumer
//! that rejected it, a cut-down copy is refused, other namespaces are never read, and the
//! `dlq` binary's output and exit codes are what scripts rely on.

use std::collections::HashSet;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use saga_contracts::events::{OrderCancelled, OrderPaid};
use saga_contracts::{Envelope, EventType, Money};
use saga_dlq::{
    plan_redrive, read_all, read_topic, redrive, DeadLetter, Selection, SkipReason,
    HEADER_REDRIVEN_FROM,
};
use saga_messaging::producer::{build_producer, event_headers};
use saga_messaging::testing::{
    isolated_kafka, read_to_end, read_until, reader, wait_caught_up, wait_for, watermarks, Group,
    PATIENCE,
};
use saga_messaging::topics::{ensure_named_topics, ensure_topics};
use saga_messaging::{
    CancellationToken, ConsumerRunner, Handler, HandlerError, KafkaConfig, Outcome, RetryPolicy,
};
use uuid::Uuid;

/// Rejects, permanently, the events whose ids are in `rejected` (until the test "fixes the
/// bug" by taking them out), and records the ids of those it applies.
#[derive(Clone, Default)]
struct Rejecting {
    rejected: Arc<Mutex<HashSet<Uuid>>>,
    applied: Arc<Mutex<Vec<Uuid>>>,
}

#[async_trait]
impl Handler for Rejecting {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        if self.rejected.lock().unwrap().contains(&event.event_id) {
            return Err(HandlerError::permanent(anyhow::anyhow!(
                "rejected by the test"
            )));
        }
        let mut applied = self.applied.lock().unwrap();
        if applied.contains(&event.event_id) {
            return Ok(Outcome::Duplicate);
        }
        applied.push(event.event_id);
        Ok(Outcome::Applied)
    }
}

fn cancelled(order_id: Uuid) -> Envelope {
    Envelope::new(
        "test",
        OrderCancelled {
            order_id,
            customer_id: Uuid::nil(),
            reason: "test".into(),
        },
    )
}

/// Sends one record and returns where it landed.
async fn send(
    producer: &FutureProducer,
    topic: &str,
    key: &[u8],
    body: &[u8],
    headers: OwnedHeaders,
) -> (i32, i64) {
    let delivery = producer
        .send(
            FutureRecord::to(topic)
                .key(key)
                .payload(body)
                .headers(headers),
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|(e, _)| panic!("sending to {topic}: {e}"));
    (delivery.partition, delivery.offset)
}

/// Sends `event` as the services do: keyed, with `event_type` and `traceparent` headers.
async fn send_event(producer: &FutureProducer, topic: &str, event: &Envelope) -> (i32, i64) {
    let traceparent = event.traceparent.map(|t| t.to_string());
    let headers = event_headers(event.event_type().as_str(), traceparent.as_deref());
    send(
        producer,
        topic,
        event.key().as_bytes(),
        &event.to_json(),
        headers,
    )
    .await
}

/// The total of the high watermarks of `topic`'s partitions: how many records it ever had.
fn records_in(kafka: &KafkaConfig, topic: &str) -> i64 {
    let consumer: BaseConsumer = kafka.admin_config().create().unwrap();
    watermarks(&consumer, &[topic.to_owned()])
        .unwrap()
        .iter()
        .map(|w| w.end)
        .sum()
}

fn header_names(letter: &DeadLetter) -> Vec<&str> {
    letter.headers.iter().map(|(k, _)| k.as_str()).collect()
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG")
                .unwrap_or_else(|_| "warn,saga_dlq=info,saga_messaging=info".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Runs the `dlq` binary in `kafka`'s namespace.
async fn dlq(kafka: &KafkaConfig, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_dlq"))
        .args(args)
        .env("KAFKA_BROKERS", &kafka.brokers)
        .env("KAFKA_TOPIC_PREFIX", &kafka.topic_prefix)
        .env_remove("COLUMNS")
        .output()
        .await
        .expect("running the dlq binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_of_a_real_runner_are_read_back_and_one_is_redriven_to_its_consumer() {
    init_tracing();
    let kafka = isolated_kafka();
    let types = [EventType::OrderCancelled, EventType::StockUpdated];
    ensure_topics(&kafka, &types).await.unwrap();
    let producer = build_producer(&kafka).unwrap();
    let cancelled_topic = kafka.topic(EventType::OrderCancelled);
    let stock_topic = kafka.topic(EventType::StockUpdated);

    // Letters that must never be read: an unknown event type's "DLQ" in this namespace, and
    // a real DLQ topic of another namespace.
    let stray = format!("{}not.an.event.dlq", kafka.topic_prefix);
    let other = isolated_kafka();
    let other_dlq = other.dlq_topic(EventType::OrderCancelled);
    ensure_named_topics(&kafka, &[stray.clone(), other_dlq.clone()])
        .await
        .unwrap();
    let none = OwnedHeaders::new();
    send(&producer, &stray, b"k", b"stray", none.clone()).await;
    send(
        &producer,
        &other_dlq,
        b"k",
        b"other namespace",
        none.clone(),
    )
    .await;

    let handler = Rejecting::default();
    let (order_a, order_b) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b) = (cancelled(order_a), cancelled(order_b));
    handler
        .rejected
        .lock()
        .unwrap()
        .extend([a.event_id, b.event_id]);
    let at_a = send_event(&producer, &cancelled_topic, &a).await;
    let at_b = send_event(&producer, &cancelled_topic, &b).await;
    let at_junk = send(
        &producer,
        &stock_topic,
        b"sku-junk",
        b"{ not json",
        none.clone(),
    )
    .await;
    let huge = vec![b'x'; 999_800];
    let at_huge = send(&producer, &stock_topic, b"sku-huge", &huge, none.clone()).await;

    let shutdown = CancellationToken::new();
    let runner = ConsumerRunner::new(kafka.clone(), "dlq-test", &types, handler.clone())
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        });
    let task = tokio::spawn(runner.run(shutdown.clone()));

    // Once the runner's group has committed both topics to their end, every letter it writes
    // for them is acknowledged: the DLQ topics then hold all there will be.
    let runner_group = Group {
        id: kafka.group_id("dlq-test"),
        topics: vec![cancelled_topic.clone(), stock_topic.clone()],
    };
    wait_caught_up(&kafka, std::slice::from_ref(&runner_group), PATIENCE).await;
    let letters = read_all(&kafka).await.unwrap();
    assert_eq!(
        letters.len(),
        4,
        "exactly the runner's letters: {letters:#?}"
    );
    let mut sorted = letters.clone();
    sorted.sort_by_key(|l| (l.dlq_topic.clone(), l.partition, l.offset));
    assert_eq!(letters, sorted, "ordered by topic, partition and offset");

    let group = kafka.group_id("dlq-test");
    let by_key = |key: &[u8]| {
        letters
            .iter()
            .find(|l| l.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("a letter keyed {key:?}"))
    };
    for letter in &letters {
        assert_eq!(
            letter.id,
            format!(
                "{}:{}:{}",
                letter.dlq_topic, letter.partition, letter.offset
            )
        );
        assert_eq!(letter.consumer_group.as_deref(), Some(group.as_str()));
        let age = Utc::now() - letter.timestamp.expect("a timestamp");
        assert!(
            age.num_seconds().abs() < 120,
            "dead-lettered just now: {age}"
        );
    }
    for (event, at) in [(&a, at_a), (&b, at_b)] {
        let l = by_key(event.key().as_bytes());
        assert_eq!(
            l.dlq_topic,
            kafka.dlq_topic(EventType::OrderCancelled),
            "{l:#?}"
        );
        assert_eq!(l.original_topic.as_deref(), Some(cancelled_topic.as_str()));
        assert_eq!(
            (l.original_partition, l.original_offset),
            (Some(at.0), Some(at.1))
        );
        assert_eq!(l.reason.as_deref(), Some("permanent"));
        assert!(
            l.error.as_deref().unwrap().contains("rejected by the test"),
            "{:?}",
            l.error
        );
        assert_eq!(l.attempts, Some(1));
        assert_eq!(l.truncated_from, None);
        assert_eq!(l.event_id, Some(event.event_id.to_string()));
        assert_eq!(l.event_type.as_deref(), Some("order.cancelled"));
        assert_eq!(l.payload, Some(event.to_json()));
        assert_eq!(
            header_names(l),
            [
                "event_type",
                "traceparent",
                "dlq.reason",
                "dlq.error",
                "dlq.original_topic",
                "dlq.original_partition",
                "dlq.original_offset",
                "dlq.attempts",
                "dlq.consumer_group",
            ]
        );
        assert_eq!(l.header("event_type"), Some(&b"order.cancelled"[..]));
    }
    let junk = by_key(b"sku-junk");
    assert_eq!(junk.dlq_topic, kafka.dlq_topic(EventType::StockUpdated));
    assert_eq!(junk.original_topic.as_deref(), Some(stock_topic.as_str()));
    assert_eq!(
        (junk.original_partition, junk.original_offset),
        (Some(at_junk.0), Some(at_junk.1))
    );
    assert_eq!(junk.reason.as_deref(), Some("undecodable"));
    assert!(junk
        .error
        .as_deref()
        .unwrap()
        .contains("not an event envelope"));
    assert_eq!(junk.attempts, Some(0));
    assert_eq!(
        (junk.event_id.as_deref(), junk.event_type.as_deref()),
        (None, None)
    );
    assert_eq!(junk.payload.as_deref(), Some(&b"{ not json"[..]));
    let cut = by_key(b"sku-huge");
    assert_eq!(cut.truncated_from, Some(999_800));
    assert_eq!(cut.original_offset, Some(at_huge.1));
    let cut_payload = cut.payload.as_deref().unwrap();
    assert!(cut_payload.len() < huge.len() && huge.starts_with(cut_payload));

    // One topic alone, named either way.
    let only = read_topic(&kafka, "order.cancelled").await.unwrap();
    assert_eq!(only, letters[..2]);
    let only = read_topic(&kafka, &kafka.dlq_topic(EventType::StockUpdated))
        .await
        .unwrap();
    assert_eq!(only, letters[2..]);

    // The bug is fixed for `a`: redrive it alone, by its event id.
    handler.rejected.lock().unwrap().remove(&a.event_id);
    let letter_a = by_key(a.key().as_bytes()).clone();
    let original = reader(&kafka, &[&cancelled_topic]);
    read_until(&original, PATIENCE, |m| m.len() >= 2).await;
    let report = redrive(&kafka, Selection::EventId(a.event_id.to_string()))
        .await
        .unwrap();
    assert!(!report.dry_run);
    assert_eq!(report.skipped, []);
    assert_eq!(report.sent.len(), 1, "{report:#?}");
    let sent = &report.sent[0];
    assert_eq!(sent.id, letter_a.id);
    assert_eq!(sent.topic, cancelled_topic);
    assert_eq!(
        sent.partition,
        Some(at_a.0),
        "same key, same partition as the original"
    );

    // The redrive has returned, its sends acknowledged: the topic up to its end is all it sent.
    let redriven = read_to_end(&original, PATIENCE).await;
    assert_eq!(
        redriven.len(),
        1,
        "exactly one record redriven: {redriven:?}"
    );
    let r = &redriven[0];
    assert_eq!((r.partition(), Some(r.offset())), (at_a.0, sent.offset));
    assert_eq!(r.key(), Some(a.key().as_bytes()));
    assert_eq!(r.payload(), Some(a.to_json().as_slice()));
    let headers: Vec<(String, Vec<u8>)> = r
        .headers()
        .unwrap()
        .iter()
        .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
        .collect();
    let original_headers: Vec<(String, Vec<u8>)> = letter_a.headers[..2]
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect();
    assert_eq!(headers[..2], original_headers, "the original headers kept");
    assert_eq!(
        headers[2..],
        [(
            HEADER_REDRIVEN_FROM.to_owned(),
            letter_a.id.clone().into_bytes()
        )],
        "no dlq.* header but the redrive's"
    );

    // Its consumer applies it, once; `b` is still rejected and was not sent.
    wait_for("the redriven event applied", PATIENCE, || {
        let applied = handler.applied.clone();
        async move { applied.lock().unwrap().contains(&a.event_id).then_some(()) }
    })
    .await;

    // A cut-down copy is refused, by id or as part of its topic; a dry run sends nothing.
    let stock_records = records_in(&kafka, &stock_topic);
    let report = redrive(&kafka, Selection::Id(cut.id.clone()))
        .await
        .unwrap();
    assert_eq!(report.sent, []);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].id, cut.id);
    assert_eq!(
        report.skipped[0].reason,
        SkipReason::Truncated {
            original_size: 999_800
        }
    );
    let plan = plan_redrive(&kafka, Selection::Topic("stock.updated".into()))
        .await
        .unwrap();
    assert!(plan.dry_run);
    let planned: Vec<&str> = plan.sent.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(planned, [junk.id.as_str()]);
    assert_eq!(plan.sent[0].offset, None);
    let refused: Vec<&str> = plan.skipped.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(refused, [cut.id.as_str()]);
    assert_eq!(
        records_in(&kafka, &stock_topic),
        stock_records,
        "nothing sent"
    );

    // The DLQ is a log: the redriven letter is still there, and nothing new was added (the
    // runner has committed everything, the redriven record included, so any letter it wrote
    // is on the DLQ topics).
    wait_caught_up(&kafka, std::slice::from_ref(&runner_group), PATIENCE).await;
    assert_eq!(read_all(&kafka).await.unwrap(), letters);
    assert_eq!(*handler.applied.lock().unwrap(), [a.event_id]);

    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// A letter as the runtime writes it, produced by hand: the original's headers, then `dlq.*`.
async fn write_letter(
    producer: &FutureProducer,
    kafka: &KafkaConfig,
    event_type: EventType,
    key: &[u8],
    payload: &[u8],
    offset: i64,
) -> (i32, i64) {
    let original = kafka.topic(event_type);
    let offset = offset.to_string();
    let group = kafka.group_id("billing");
    let mut headers = OwnedHeaders::new();
    for (key, value) in [
        ("event_type", event_type.as_str()),
        ("dlq.reason", "permanent"),
        ("dlq.error", "permanent: no such customer"),
        ("dlq.original_topic", original.as_str()),
        ("dlq.original_partition", "0"),
        ("dlq.original_offset", offset.as_str()),
        ("dlq.attempts", "1"),
        ("dlq.consumer_group", group.as_str()),
    ] {
        headers = headers.insert(Header {
            key,
            value: Some(value),
        });
    }
    send(
        producer,
        &kafka.dlq_topic(event_type),
        key,
        payload,
        headers,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_lists_as_json_shows_by_id_or_event_id_and_exits_by_outcome() {
    let kafka = isolated_kafka();
    ensure_topics(&kafka, &[EventType::OrderPaid])
        .await
        .unwrap();
    let producer = build_producer(&kafka).unwrap();
    let paid = Envelope::new(
        "test",
        OrderPaid {
            order_id: Uuid::now_v7(),
            customer_id: Uuid::now_v7(),
            amount: "12.50".parse::<Money>().unwrap(),
        },
    );
    let (p1, o1) = write_letter(
        &producer,
        &kafka,
        EventType::OrderPaid,
        paid.key().as_bytes(),
        &paid.to_json(),
        41,
    )
    .await;
    let (p2, o2) = write_letter(
        &producer,
        &kafka,
        EventType::OrderPaid,
        b"binary",
        &[0xff, 0x00, 0x01],
        42,
    )
    .await;
    let dlq_topic = kafka.dlq_topic(EventType::OrderPaid);
    let id1 = format!("{dlq_topic}:{p1}:{o1}");
    let id2 = format!("{dlq_topic}:{p2}:{o2}");

    let out = dlq(&kafka, &["list", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let listed = listed.as_array().expect("a JSON array");
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let json1 = listed.iter().find(|l| l["id"] == id1.as_str()).unwrap();
    assert_eq!(json1["event_id"], paid.event_id.to_string());
    assert_eq!(json1["event_type"], "order.paid");
    assert_eq!(json1["original_topic"], kafka.topic(EventType::OrderPaid));
    assert_eq!(json1["original_offset"], 41);
    assert_eq!(json1["reason"], "permanent");
    assert_eq!(json1["attempts"], 1);
    assert_eq!(json1["truncated_from"], serde_json::Value::Null);
    assert_eq!(json1["key"], paid.key());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(json1["payload"].as_str().unwrap()).unwrap(),
        paid.to_json_value()
    );
    assert_eq!(json1["headers"][0]["key"], "event_type");
    assert_eq!(json1["headers"][0]["value"], "order.paid");
    let json2 = listed.iter().find(|l| l["id"] == id2.as_str()).unwrap();
    assert_eq!(json2["key"], "binary");
    assert_eq!(json2["payload"], serde_json::json!({"base64": "/wAB"}));
    assert_eq!(json2["event_id"], serde_json::Value::Null);

    let out = dlq(&kafka, &["list"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("ORIGINAL TOPIC"),
        "{table}"
    );
    assert!(table.contains(&id1) && table.contains(&id2), "{table}");
    assert!(table.contains("no such customer"), "{table}");
    assert_eq!(
        lines.last().copied(),
        Some(format!("2 dead letters ({dlq_topic}: 2)").as_str())
    );

    let out = dlq(&kafka, &["show", &id1]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    for expected in [
        format!("id               {id1}"),
        format!("event id         {}", paid.event_id),
        "reason           permanent".into(),
        format!("consumer group   {}", kafka.group_id("billing")),
        "  dlq.original_offset: 41".into(),
        "    \"event_type\": \"order.paid\",".into(),
    ] {
        assert!(shown.contains(&expected), "{expected:?} in:\n{shown}");
    }
    let out = dlq(&kafka, &["show", &paid.event_id.to_string(), "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown.as_array().map(Vec::len), Some(1));
    assert_eq!(shown[0]["id"], id1.as_str());

    let unknown = format!("{dlq_topic}:0:999");
    let out = dlq(&kafka, &["show", &unknown]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no dead letter"), "{}", stderr(&out));
    let out = dlq(
        &kafka,
        &["redrive", "--event-id", &Uuid::now_v7().to_string()],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no dead letter"), "{}", stderr(&out));

    // Usage errors, help and their exit codes are clap's.
    let out = dlq(&kafka, &["redrive"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error:") && stderr(&out).contains("Usage: dlq redrive"),
        "{}",
        stderr(&out)
    );
    let out = dlq(&kafka, &["list", "--bogus"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("'--bogus'"), "{}", stderr(&out));
    let out = dlq(&kafka, &["list", "--topic", "elsewhere.order.paid"]).await;
    assert_eq!(out.status.code(), Some(2), "a topic not of the namespace");
    assert!(stderr(&out).contains("Usage: dlq"), "{}", stderr(&out));
    let out = dlq(&kafka, &["--help"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    for part in ["Usage: dlq", "list", "show", "redrive", "Exit codes"] {
        assert!(stdout(&out).contains(part), "{part}: {}", stdout(&out));
    }

    let original = kafka.topic(EventType::OrderPaid);
    let out = dlq(&kafka, &["redrive", "--id", &id1, "--dry-run", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["sent"][0]["id"], id1.as_str());
    assert_eq!(plan["sent"][0]["topic"], original.as_str());
    assert_eq!(records_in(&kafka, &original), 0, "a dry run sends nothing");

    let out = dlq(&kafka, &["redrive", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("redrove 2, skipped 0\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(records_in(&kafka, &original), 2);
    let out = dlq(&kafka, &["list", "--json"]).await;
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(2),
        "redriven letters stay"
    );
}

#[tokio::test]
async fn a_broker_that_is_down_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kafka = KafkaConfig {
        brokers: format!("127.0.0.1:{port}"),
        ..isolated_kafka()
    };
    let out = tokio::time::timeout(PATIENCE, dlq(&kafka, &["list"]))
        .await
        .expect("the tool gives up on an unreachable broker by itself");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "cannot reach the Kafka broker at 127.0.0.1:{port}"
        )),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_without_letters_reads_as_empty() {
    let kafka = isolated_kafka();
    assert_eq!(read_all(&kafka).await.unwrap(), []);

    // Its DLQ topics exist but are empty; an event topic has a record, which is not a letter.
    ensure_topics(&kafka, EventType::ALL).await.unwrap();
    let producer = build_producer(&kafka).unwrap();
    send_event(
        &producer,
        &kafka.topic(EventType::OrderCancelled),
        &cancelled(Uuid::now_v7()),
    )
    .await;
    assert_eq!(read_all(&kafka).await.unwrap(), []);
    let report = redrive(&kafka, Selection::All).await.unwrap();
    assert_eq!((report.sent.len(), report.skipped.len()), (0, 0));
}
