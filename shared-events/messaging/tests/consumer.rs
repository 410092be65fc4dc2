//! The idempotent consumer runner with the PostgreSQL inbox, against real PostgreSQL and the
//! real broker: duplicates, transient failures, dead letters, and offsets across a restart.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::env;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use saga_contracts::events::OrderCancelled;
use saga_contracts::{Envelope, EventType};
use saga_messaging::postgres::{PgHandler, PgIdempotent, PgInbox};
use saga_messaging::testing::{
    header, positions_of, read_to_end, read_until, reader, wait_caught_up, wait_for, Group,
};
use saga_messaging::{CancellationToken, ConsumerRunner, HandlerError, KafkaConfig, RetryPolicy};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Counts effects per order in a table; the cancellation `reason` scripts its behaviour:
/// `flaky-N` fails transiently N times, `poison` fails permanently, `stuck` always transiently,
/// `down-N` fails N times as a store that cannot be reached (the pool timing out), and
/// `down-N-flaky-M` fails N times so, then M times transiently.
#[derive(Clone, Default)]
struct Scripted {
    attempts: Arc<Mutex<HashMap<Uuid, u32>>>,
}

#[async_trait]
impl PgHandler for Scripted {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let saga_contracts::EventPayload::OrderCancelled(c) = &event.payload else {
            return Err(HandlerError::permanent(anyhow::anyhow!("unexpected event")));
        };
        let attempt = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(event.event_id).or_default();
            *n += 1;
            *n
        };
        if let Some((down, flaky)) = c
            .reason
            .strip_prefix("down-")
            .and_then(|rest| rest.split_once("-flaky-"))
        {
            let (down, flaky): (u32, u32) = (down.parse().unwrap(), flaky.parse().unwrap());
            if attempt <= down {
                return Err(sqlx::Error::PoolTimedOut.into());
            }
            if attempt <= down + flaky {
                return Err(HandlerError::transient(anyhow::anyhow!(
                    "flaky after the outage, attempt {attempt}"
                )));
            }
        } else if let Some(n) = c.reason.strip_prefix("flaky-") {
            if attempt <= n.parse().unwrap() {
                return Err(HandlerError::transient(anyhow::anyhow!(
                    "flaky, attempt {attempt}"
                )));
            }
        } else if let Some(n) = c.reason.strip_prefix("down-") {
            if attempt <= n.parse().unwrap() {
                return Err(sqlx::Error::PoolTimedOut.into());
            }
        }
        match c.reason.as_str() {
            "poison" => return Err(HandlerError::permanent(anyhow::anyhow!("poison pill"))),
            "stuck" => return Err(HandlerError::transient(anyhow::anyhow!("still down"))),
            _ => {}
        }
        sqlx::query(
            "INSERT INTO effects (order_id, n) VALUES ($1, 1) \
             ON CONFLICT (order_id) DO UPDATE SET n = effects.n + 1",
        )
        .bind(c.order_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

fn cancelled(order_id: Uuid, reason: &str) -> Envelope {
    Envelope::new(
        "test",
        OrderCancelled {
            order_id,
            customer_id: Uuid::nil(),
            reason: reason.into(),
        },
    )
}

async fn send_raw(producer: &FutureProducer, topic: &str, key: &str, body: &[u8]) {
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(body),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
}

/// Publishes `event` to one partition of `topic` and waits for its ack.
async fn publish_to(producer: &FutureProducer, topic: &str, partition: i32, event: Envelope) {
    let (body, key) = (event.to_json(), event.key());
    producer
        .send(
            FutureRecord::to(topic)
                .partition(partition)
                .key(&key)
                .payload(&body),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
}

async fn effects(pool: &PgPool, order_id: Uuid) -> Option<i32> {
    sqlx::query_scalar("SELECT n FROM effects WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(pool)
        .await
        .unwrap()
}

async fn setup() -> (common::Env, String) {
    // The runner creates no topics (a service does at start-up): this creates the topic and
    // its dead-letter topic.
    let env = env(&[EventType::OrderCancelled]).await;
    sqlx::query("CREATE TABLE effects (order_id UUID PRIMARY KEY, n INT NOT NULL)")
        .execute(&env.pool)
        .await
        .unwrap();
    let topic = env.kafka.topic(EventType::OrderCancelled);
    (env, topic)
}

fn runner(env: &common::Env, handler: Scripted) -> ConsumerRunner {
    ConsumerRunner::new(
        env.kafka.clone(),
        "test-consumer",
        &[EventType::OrderCancelled],
        PgIdempotent::new(env.pool.clone(), "test-consumer", handler),
    )
    .retry_policy(RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    })
}

async fn wait_effect(pool: &PgPool, order_id: Uuid) -> i32 {
    wait_for("the effect", Duration::from_secs(60), || async move {
        effects(pool, order_id).await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_delivered_twice_has_its_effect_once() {
    let (env, topic) = setup().await;
    let order = Uuid::now_v7();
    let event = cancelled(order, "ok");
    let marker = cancelled(order, "ok-marker");
    let key = order.to_string();
    send_raw(&env.producer, &topic, &key, &event.to_json()).await;
    send_raw(&env.producer, &topic, &key, &event.to_json()).await;
    send_raw(&env.producer, &topic, &key, &marker.to_json()).await;

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, Scripted::default()).run(shutdown.clone()));
    // The marker shares the key, hence the partition: once it is applied, both copies were seen.
    wait_for("the marker's effect", Duration::from_secs(60), || {
        let pool = env.pool.clone();
        async move { effects(&pool, order).await.filter(|&n| n == 2) }
    })
    .await;
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = $1")
        .bind(event.event_id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(inbox, 1);
    assert_eq!(
        effects(&env.pool, order).await,
        Some(2),
        "event once + marker once"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// The dead letters of `topic`, once the runner's group has committed it to its end: the
/// runner stores an offset only once the message's dead letter (if any) is acknowledged, so
/// the dead-letter topic up to its end then holds every letter there will be.
async fn all_letters(env: &common::Env, topic: &str) -> Vec<OwnedMessage> {
    let group = Group {
        id: env.kafka.group_id("test-consumer"),
        topics: vec![topic.to_owned()],
    };
    wait_caught_up(&env.kafka, &[group], Duration::from_secs(60)).await;
    let dlq = env.kafka.dlq_topic(EventType::OrderCancelled);
    read_to_end(&reader(&env.kafka, &[&dlq]), Duration::from_secs(60)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_succeeds_on_retry() {
    let (env, topic) = setup().await;
    let order = Uuid::now_v7();
    let event = cancelled(order, "flaky-2");
    send_raw(&env.producer, &topic, &order.to_string(), &event.to_json()).await;

    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    assert_eq!(wait_effect(&env.pool, order).await, 1);
    assert_eq!(handler.attempts.lock().unwrap()[&event.event_id], 3);

    let dead = all_letters(&env, &topic).await;
    assert!(dead.is_empty(), "nothing dead-lettered");
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// An unreachable store is retried for as long as it is down, far past the policy's attempts
/// (4 here): the event is applied once it is back, and nothing is dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unavailable_store_is_retried_past_the_attempt_limit_and_never_dead_lettered() {
    let (env, topic) = setup().await;
    let order = Uuid::now_v7();
    let event = cancelled(order, "down-12");
    send_raw(&env.producer, &topic, &order.to_string(), &event.to_json()).await;

    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    assert_eq!(wait_effect(&env.pool, order).await, 1);
    assert_eq!(handler.attempts.lock().unwrap()[&event.event_id], 13);

    let dead = all_letters(&env, &topic).await;
    assert!(
        dead.is_empty(),
        "nothing dead-lettered: {} letters",
        dead.len()
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// An outage longer than the whole transient budget (4 attempts here) spends none of it: a
/// transient failure just after the store is back is retried, not dead-lettered. Transient
/// failures that outlast the budget after an outage still are, and the dead letter counts
/// every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_leaves_the_whole_transient_budget_to_the_failures_after_it() {
    let (env, topic) = setup().await;
    let (order, stuck_order) = (Uuid::now_v7(), Uuid::now_v7());
    let event = cancelled(order, "down-6-flaky-1");
    let stuck = cancelled(stuck_order, "down-5-flaky-99");
    send_raw(&env.producer, &topic, &order.to_string(), &event.to_json()).await;
    send_raw(
        &env.producer,
        &topic,
        &stuck_order.to_string(),
        &stuck.to_json(),
    )
    .await;

    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    assert_eq!(wait_effect(&env.pool, order).await, 1, "applied after all");
    assert_eq!(
        handler.attempts.lock().unwrap()[&event.event_id],
        8,
        "6 unavailable, 1 transient, 1 applied"
    );

    let letters = all_letters(&env, &topic).await;
    assert_eq!(letters.len(), 1, "only the stuck event is dead-lettered");
    assert_eq!(letters[0].payload(), Some(stuck.to_json().as_slice()));
    assert_eq!(
        header(&letters[0], "dlq.reason").as_deref(),
        Some("retries_exhausted")
    );
    assert_eq!(
        header(&letters[0], "dlq.attempts").as_deref(),
        Some("9"),
        "5 calls unavailable, then the 4 transient failures of the budget"
    );
    assert_eq!(effects(&env.pool, stuck_order).await, None);
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_undecodable_messages_are_dead_lettered_and_the_partition_moves_on() {
    let (env, topic) = setup().await;
    let order = Uuid::now_v7();
    let key = order.to_string();
    let poison = cancelled(order, "poison");
    let stuck = cancelled(order, "stuck");
    let mut future = cancelled(order, "ok").to_json_value();
    future["schema_version"] = 2.into();
    let future = serde_json::to_vec(&future).unwrap();
    let good = cancelled(order, "ok");

    // All on one key, so on one partition, ahead of the good event.
    send_raw(&env.producer, &topic, &key, b"{ this is not json").await;
    send_raw(&env.producer, &topic, &key, &poison.to_json()).await;
    send_raw(&env.producer, &topic, &key, &future).await;
    send_raw(&env.producer, &topic, &key, &stuck.to_json()).await;
    send_raw(&env.producer, &topic, &key, &good.to_json()).await;

    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    assert_eq!(
        wait_effect(&env.pool, order).await,
        1,
        "the good event got through"
    );

    let dlq = env.kafka.dlq_topic(EventType::OrderCancelled);
    let dead = read_until(&reader(&env.kafka, &[&dlq]), Duration::from_secs(30), |m| {
        m.len() >= 4
    })
    .await;
    let summary: Vec<(String, String, Vec<u8>)> = dead
        .iter()
        .map(|m| {
            (
                header(m, "dlq.reason").unwrap(),
                header(m, "dlq.error").unwrap(),
                m.payload().unwrap().to_vec(),
            )
        })
        .collect();
    assert_eq!(summary[0].0, "undecodable");
    assert!(
        summary[0].1.contains("not an event envelope"),
        "{}",
        summary[0].1
    );
    assert_eq!(summary[0].2, b"{ this is not json");
    assert_eq!(summary[1].0, "permanent");
    assert!(summary[1].1.contains("poison pill"), "{}", summary[1].1);
    assert_eq!(summary[1].2, poison.to_json());
    assert_eq!(summary[2].0, "undecodable");
    assert!(
        summary[2].1.contains("unsupported schema_version 2"),
        "{}",
        summary[2].1
    );
    assert_eq!(summary[3].0, "retries_exhausted");
    assert!(summary[3].1.contains("still down"), "{}", summary[3].1);
    assert_eq!(header(&dead[3], "dlq.attempts").as_deref(), Some("4"));
    assert_eq!(handler.attempts.lock().unwrap()[&stuck.event_id], 4);
    for m in &dead {
        assert_eq!(
            header(m, "dlq.original_topic").as_deref(),
            Some(topic.as_str())
        );
        assert_eq!(m.key(), Some(key.as_bytes()));
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// The offsets the runner's group has committed on `topic`, added up: how many of its
/// messages it is done with, as all are published before it starts.
async fn committed_total(kafka: &KafkaConfig, topic: &str) -> i64 {
    let group = Group {
        id: kafka.group_id("test-consumer"),
        topics: vec![topic.to_owned()],
    };
    positions_of(kafka, &[group])
        .await
        .unwrap()
        .iter()
        .map(|p| p.committed.unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_committed_on_shutdown_and_a_restart_resumes_after_them() {
    let (env, topic) = setup().await;
    let first: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    for o in &first {
        send_raw(
            &env.producer,
            &topic,
            &o.to_string(),
            &cancelled(*o, "ok").to_json(),
        )
        .await;
    }
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, Scripted::default()).run(shutdown.clone()));
    for o in &first {
        wait_effect(&env.pool, *o).await;
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(
        committed_total(&env.kafka, &topic).await,
        10,
        "all ten offsets committed"
    );

    // A restarted consumer starts after the committed offsets: the first ten are not even
    // offered again (the inbox would hide it, so count the handler's attempts instead).
    let second: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    for o in &second {
        send_raw(
            &env.producer,
            &topic,
            &o.to_string(),
            &cancelled(*o, "ok").to_json(),
        )
        .await;
    }
    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    for o in &second {
        wait_effect(&env.pool, *o).await;
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(handler.attempts.lock().unwrap().len(), 5);
    for o in first.iter().chain(&second) {
        assert_eq!(effects(&env.pool, *o).await, Some(1));
    }
    assert_eq!(committed_total(&env.kafka, &topic).await, 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_midway_is_rolled_back_and_each_event_applied_once() {
    let (env, topic) = setup().await;
    // One key, so one partition and one worker: published before the runner starts, the
    // messages are queued together and handled as a batch, which the flaky one makes fail.
    let order = Uuid::now_v7();
    let key = order.to_string();
    let others: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let mut events = Vec::new();
    for (i, other) in others.iter().enumerate() {
        let reason = if i == 3 { "flaky-1" } else { "ok" };
        events.push(cancelled(*other, reason));
    }
    for e in &events {
        send_raw(&env.producer, &topic, &key, &e.to_json()).await;
    }
    send_raw(&env.producer, &topic, &key, &events[0].to_json()).await;

    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, handler.clone()).run(shutdown.clone()));
    for o in &others {
        assert_eq!(wait_effect(&env.pool, *o).await, 1);
    }
    // Give the duplicate (last on the partition) time to be seen: it is seen once its
    // offset is committed, which happens after everything before it was applied.
    wait_for("all offsets stored", Duration::from_secs(30), || {
        let kafka = env.kafka.clone();
        let topic = topic.clone();
        async move { (committed_total(&kafka, &topic).await == 7).then_some(()) }
    })
    .await;
    for o in &others {
        assert_eq!(effects(&env.pool, *o).await, Some(1), "{o} applied once");
    }
    let attempts = handler.attempts.lock().unwrap().clone();
    assert!(
        attempts[&events[3].event_id] >= 2,
        "the flaky event failed, then succeeded"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// Adds its number to the effect of the event's order: a handler whose value differs per call.
struct Add(i32);

#[async_trait]
impl PgHandler for Add {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let saga_contracts::EventPayload::OrderCancelled(c) = &event.payload else {
            return Err(HandlerError::permanent(anyhow::anyhow!("unexpected event")));
        };
        sqlx::query(
            "INSERT INTO effects (order_id, n) VALUES ($1, $2) \
             ON CONFLICT (order_id) DO UPDATE SET n = effects.n + $2",
        )
        .bind(c.order_id)
        .bind(self.0)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The inbox applies the handler each call gives it, once per event: a duplicate runs none,
/// whatever handler comes with it, alone or in a batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_inbox_applies_each_calls_handler_once_per_event() {
    use saga_messaging::Outcome::{Applied, Duplicate};
    let (env, _topic) = setup().await;
    let inbox = PgInbox::new(env.pool.clone(), "per-call-test");
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let (first, second) = (cancelled(a, "ok"), cancelled(b, "ok"));
    assert_eq!(inbox.apply(&Add(1), &first).await.unwrap(), Applied);
    assert_eq!(inbox.apply(&Add(10), &second).await.unwrap(), Applied);
    assert_eq!(inbox.apply(&Add(100), &first).await.unwrap(), Duplicate);
    assert_eq!(
        effects(&env.pool, a).await,
        Some(1),
        "a duplicate ran its handler"
    );
    assert_eq!(effects(&env.pool, b).await, Some(10));

    let c = Uuid::now_v7();
    let batch = [second.clone(), cancelled(c, "ok")];
    assert_eq!(
        inbox.apply_batch(&Add(7), &batch).await,
        Some(vec![Duplicate, Applied])
    );
    assert_eq!(effects(&env.pool, b).await, Some(10));
    assert_eq!(effects(&env.pool, c).await, Some(7));
}

/// Adds 1, once told to go on: holds its transaction, and so its inbox row, open till then.
struct Held {
    entered: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
}

#[async_trait]
impl PgHandler for Held {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        self.entered.notify_one();
        self.go.notified().await;
        Add(1).handle(tx, event).await
    }
}

/// Two instances of one consumer take the same event at once. The second's inbox insert waits
/// for the first's transaction; once that commits, the second finds a duplicate (not an error)
/// and runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_on_one_event_apply_it_once() {
    use saga_messaging::Outcome::{Applied, Duplicate};
    let (env, _topic) = setup().await;
    let order_id = Uuid::now_v7();
    let event = cancelled(order_id, "ok");
    let (entered, go) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let held = Held {
        entered: entered.clone(),
        go: go.clone(),
    };
    let first = {
        let (inbox, event) = (PgInbox::new(env.pool.clone(), "race-test"), event.clone());
        tokio::spawn(async move { inbox.apply(&held, &event).await })
    };
    entered.notified().await;
    let second = {
        let (inbox, event) = (PgInbox::new(env.pool.clone(), "race-test"), event.clone());
        tokio::spawn(async move { inbox.apply(&Add(100), &event).await })
    };
    wait_for(
        "the second instance's inbox insert to wait on the first's row",
        Duration::from_secs(60),
        || async {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock' \
                   AND query LIKE 'INSERT INTO inbox%'",
            )
            .fetch_one(&env.pool)
            .await
            .unwrap();
            (waiting == 1).then_some(())
        },
    )
    .await;
    go.notify_one();
    assert_eq!(first.await.unwrap().unwrap(), Applied);
    assert_eq!(second.await.unwrap().unwrap(), Duplicate);
    assert_eq!(
        effects(&env.pool, order_id).await,
        Some(1),
        "the second instance ran its handler too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_batch_step_is_all_or_nothing_and_idempotent() {
    use saga_messaging::{Handler, Outcome};
    let (env, _topic) = setup().await;
    let handler = Scripted::default();
    let step = PgIdempotent::new(env.pool.clone(), "batch-test", handler.clone());
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let batch = vec![
        cancelled(a, "ok"),
        cancelled(b, "flaky-1"),
        cancelled(c, "ok"),
    ];

    // The second event fails: nothing of the batch remains, not even the first's effect.
    assert!(step.handle_batch(&batch).await.is_none());
    assert_eq!(effects(&env.pool, a).await, None);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(inbox, 0);

    // Retried, it applies as a whole; again, it is all duplicates.
    use Outcome::{Applied, Duplicate};
    assert_eq!(step.handle_batch(&batch).await, Some(vec![Applied; 3]));
    assert_eq!(step.handle_batch(&batch).await, Some(vec![Duplicate; 3]));
    for o in [a, b, c] {
        assert_eq!(effects(&env.pool, o).await, Some(1));
    }

    // A copy of an event inside one batch is a duplicate too.
    let d = cancelled(Uuid::now_v7(), "ok");
    let twice = vec![d.clone(), d.clone()];
    assert_eq!(
        step.handle_batch(&twice).await,
        Some(vec![Applied, Duplicate])
    );
    assert_eq!(step.handle(&d).await.unwrap(), Duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_stuck_retrying_does_not_hold_up_the_others() {
    let (env, topic) = setup().await;
    let send_to =
        |partition: i32, event: Envelope| publish_to(&env.producer, &topic, partition, event);
    // Partition 0: a message that keeps failing, then more than its worker's queue holds.
    let stuck = cancelled(Uuid::now_v7(), "stuck");
    send_to(0, stuck.clone()).await;
    let behind: Vec<Uuid> = (0..400).map(|_| Uuid::now_v7()).collect();
    for o in &behind {
        send_to(0, cancelled(*o, "ok")).await;
    }
    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let runner = runner(&env, handler.clone()).retry_policy(RetryPolicy {
        max_attempts: 10_000,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(100),
    });
    let task = tokio::spawn(runner.run(shutdown.clone()));
    // Once the stuck message has been retried a few times, the runner has read the 400 behind
    // it and found its queue full.
    wait_for(
        "the stuck message to be retried",
        Duration::from_secs(60),
        || {
            let n = handler
                .attempts
                .lock()
                .unwrap()
                .get(&stuck.event_id)
                .copied();
            async move { n.filter(|&n| n >= 5).map(|_| ()) }
        },
    )
    .await;
    // Partition 1, published only now: it must be applied while partition 0 is still stuck.
    let free = Uuid::now_v7();
    send_to(1, cancelled(free, "ok")).await;
    assert_eq!(wait_effect(&env.pool, free).await, 1);
    assert_eq!(
        effects(&env.pool, behind[0]).await,
        None,
        "partition 0 stays in order"
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// Appends each event's number to its order's row, with the transaction it ran in: the order
/// of every key, and which events shared a transaction, can be read back.
struct Numbered;

#[async_trait]
impl PgHandler for Numbered {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let saga_contracts::EventPayload::OrderCancelled(c) = &event.payload else {
            return Err(HandlerError::permanent(anyhow::anyhow!("unexpected event")));
        };
        let seq: i32 = c.reason.parse().map_err(HandlerError::permanent)?;
        sqlx::query("INSERT INTO numbered (order_id, seq, xid) VALUES ($1, $2, txid_current())")
            .bind(c.order_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// A backlog on every partition, applied by a handler that batches: the runner joins what
/// several partitions queued into one transaction (a group commit). Each event is applied
/// once, each key in its partition's order, and in fewer transactions than events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_several_partitions_keep_each_keys_order_and_apply_each_event_once() {
    let (env, topic) = setup().await;
    sqlx::query(
        "CREATE TABLE numbered (n BIGSERIAL PRIMARY KEY, order_id UUID NOT NULL, \
         seq INT NOT NULL, xid BIGINT NOT NULL)",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    let partitions = env.kafka.partitions;
    const PER_KEY: i32 = 40;
    // Two keys per partition, their events interleaved.
    let keys: Vec<(i32, Uuid)> = (0..partitions)
        .flat_map(|p| [(p, Uuid::now_v7()), (p, Uuid::now_v7())])
        .collect();
    for seq in 0..PER_KEY {
        for (p, order) in &keys {
            publish_to(
                &env.producer,
                &topic,
                *p,
                cancelled(*order, &seq.to_string()),
            )
            .await;
        }
    }
    let total = PER_KEY as i64 * keys.len() as i64;
    let shutdown = CancellationToken::new();
    let runner = ConsumerRunner::new(
        env.kafka.clone(),
        "test-consumer",
        &[EventType::OrderCancelled],
        PgIdempotent::new(env.pool.clone(), "test-consumer", Numbered),
    );
    let task = tokio::spawn(runner.run(shutdown.clone()));
    wait_for("every event applied", Duration::from_secs(60), || {
        let pool = env.pool.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM numbered")
                .fetch_one(&pool)
                .await
                .unwrap();
            (n >= total).then_some(())
        }
    })
    .await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let rows: Vec<(Uuid, i32, i64)> =
        sqlx::query_as("SELECT order_id, seq, xid FROM numbered ORDER BY n")
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(rows.len() as i64, total, "each event applied once");
    for (_, order) in &keys {
        let seqs: Vec<i32> = rows.iter().filter(|r| r.0 == *order).map(|r| r.1).collect();
        assert_eq!(
            seqs,
            (0..PER_KEY).collect::<Vec<_>>(),
            "order {order} in order"
        );
    }
    let partition_of: HashMap<Uuid, i32> = keys.iter().map(|(p, o)| (*o, *p)).collect();
    let mut spans: HashMap<i64, std::collections::BTreeSet<i32>> = HashMap::new();
    for (order, _, xid) in &rows {
        spans.entry(*xid).or_default().insert(partition_of[order]);
    }
    assert!(
        (spans.len() as i64) < total,
        "{} transactions for {total} events",
        spans.len()
    );
    let widest = spans.values().map(|s| s.len()).max().unwrap_or(0);
    tracing::info!(
        transactions = spans.len(),
        events = total,
        widest,
        "partitions in the widest transaction"
    );
}

/// With static membership, a consumer whose `group.instance.id` another member takes is fenced:
/// librdkafka fails it fatally and it can fetch nothing more. (It happens without a second
/// process too: after a broker outage longer than the session timeout, a member's own new
/// session fences its old one.) The runner replaces the dead consumer and goes on consuming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_fenced_out_of_its_static_membership_is_replaced() {
    let (mut env, topic) = setup().await;
    env.kafka.group_instance_id = Some("instance-1".into());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, Scripted::default()).run(shutdown.clone()));
    let before = Uuid::now_v7();
    let key = before.to_string();
    send_raw(
        &env.producer,
        &topic,
        &key,
        &cancelled(before, "ok").to_json(),
    )
    .await;
    assert_eq!(wait_effect(&env.pool, before).await, 1);

    let restarts = saga_messaging::metrics::CONSUMER_RESTARTS.get();
    {
        // Another member joins under the same instance id and takes the partitions.
        let intruder: StreamConsumer = env
            .kafka
            .consumer_config(&env.kafka.group_id("test-consumer"))
            .create()
            .unwrap();
        intruder.subscribe(&[topic.as_str()]).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while intruder.assignment().unwrap().count() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the intruder was never assigned the partitions"
            );
            let _ = tokio::time::timeout(Duration::from_millis(100), intruder.recv()).await;
        }
    }
    wait_for(
        "the runner to replace its fenced consumer",
        Duration::from_secs(60),
        || async move {
            (saga_messaging::metrics::CONSUMER_RESTARTS.get() > restarts).then_some(())
        },
    )
    .await;

    let after = Uuid::now_v7();
    let key = after.to_string();
    send_raw(
        &env.producer,
        &topic,
        &key,
        &cancelled(after, "ok").to_json(),
    )
    .await;
    assert_eq!(wait_effect(&env.pool, after).await, 1);
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// A partition paused because its worker's queue was full is resumed even while another
/// partition delivers a message every few milliseconds, without pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_partition_resumes_while_another_has_steady_traffic() {
    let (env, topic) = setup().await;
    let send_to =
        |partition: i32, event: Envelope| publish_to(&env.producer, &topic, partition, event);
    // Partition 0: a message that fails for a while, then more than its worker's queue holds,
    // so the runner pauses the partition with one message in hand.
    let slow = cancelled(Uuid::now_v7(), "flaky-15");
    send_to(0, slow.clone()).await;
    let behind: Vec<Uuid> = (0..400).map(|_| Uuid::now_v7()).collect();
    for o in &behind {
        send_to(0, cancelled(*o, "ok")).await;
    }
    // Partition 1: a message every millisecond or so for as long as the test runs, each
    // handed to the producer without waiting for its ack, so the consumer never goes 20 ms
    // without a message.
    let steady_stop = CancellationToken::new();
    let steady = {
        let (stop, producer, topic) = (steady_stop.clone(), env.producer.clone(), topic.clone());
        tokio::spawn(async move {
            let mut sent = 0u32;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            while !stop.is_cancelled() {
                tick.tick().await;
                let event = cancelled(Uuid::now_v7(), "ok");
                let (body, key) = (event.to_json(), event.key());
                let record = FutureRecord::to(&topic)
                    .partition(1)
                    .key(&key)
                    .payload(&body);
                if producer.send_result(record).is_ok() {
                    sent += 1;
                }
            }
            sent
        })
    };
    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let runner = runner(&env, handler.clone()).retry_policy(RetryPolicy {
        max_attempts: 100,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(100),
    });
    let task = tokio::spawn(runner.run(shutdown.clone()));
    let pool = env.pool.clone();
    let ids = behind.clone();
    wait_for(
        "every message behind the slow one applied",
        Duration::from_secs(90),
        || {
            let (pool, ids) = (pool.clone(), ids.clone());
            async move {
                let n: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM effects WHERE order_id = ANY($1)")
                        .bind(&ids)
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                (n == ids.len() as i64).then_some(())
            }
        },
    )
    .await;
    steady_stop.cancel();
    let sent = steady.await.unwrap();
    assert!(
        sent > 100,
        "partition 1 had steady traffic ({sent} messages)"
    );
    assert_eq!(handler.attempts.lock().unwrap()[&slow.event_id], 16);
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

/// An undecodable message near the broker's size limit cannot be dead-lettered as it is (the
/// `dlq.*` headers take it over `message.max.bytes`): a cut-down copy goes instead, and the
/// partition moves on to the good event behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_too_large_for_the_broker_goes_cut_down_and_the_partition_moves_on() {
    let (env, topic) = setup().await;
    let order = Uuid::now_v7();
    let key = order.to_string();
    let huge = vec![b'x'; 999_800];
    send_raw(&env.producer, &topic, &key, &huge).await;
    let good = cancelled(order, "ok");
    send_raw(&env.producer, &topic, &key, &good.to_json()).await;

    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&env, Scripted::default()).run(shutdown.clone()));
    assert_eq!(
        wait_effect(&env.pool, order).await,
        1,
        "the good event got through"
    );
    let dlq = env.kafka.dlq_topic(EventType::OrderCancelled);
    let dead = read_until(&reader(&env.kafka, &[&dlq]), Duration::from_secs(30), |m| {
        !m.is_empty()
    })
    .await;
    let letter = &dead[0];
    assert_eq!(header(letter, "dlq.reason").as_deref(), Some("undecodable"));
    assert_eq!(
        header(letter, "dlq.payload_truncated").as_deref(),
        Some("999800")
    );
    assert_eq!(
        header(letter, "dlq.original_topic").as_deref(),
        Some(topic.as_str())
    );
    assert!(header(letter, "dlq.original_offset").is_some());
    let payload = letter.payload().unwrap();
    assert!(payload.len() < huge.len() && huge.starts_with(payload));
    assert_eq!(letter.key(), Some(key.as_bytes()));
    shutdown.cancel();
    task.await.unwrap().unwrap();
}
