//! The consumer runner's life around its handler, against the real broker: a rebalance that
//! takes partitions away, a partition worker that dies, and shutdown while a store hangs or the
//! broker will not take a dead letter.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use saga_contracts::events::OrderCancelled;
use saga_contracts::{Envelope, EventType};
use saga_messaging::consumer::ConsumerError;
use saga_messaging::producer::build_producer;
use saga_messaging::testing::{isolated_kafka, wait_for};
use saga_messaging::topics::ensure_named_topics;
use saga_messaging::{
    CancellationToken, ConsumerRunner, Handler, HandlerError, KafkaConfig, Outcome, RetryPolicy,
};
use uuid::Uuid;

/// The consumer group of every runner here.
const SERVICE: &str = "lifecycle";

/// How long a runner may take to stop once told to: a handler call or dead letter under way
/// gets 5 s of grace, and the rest is prompt. Before the grace, shutdown waited for a hung
/// store forever, and for an unreachable broker up to `message.timeout.ms` (60 s) per worker.
const PROMPT_SHUTDOWN: Duration = Duration::from_secs(15);

/// A namespace of its own, with the `order.cancelled` topic, and its dead-letter topic if
/// `with_dlq`.
async fn setup(with_dlq: bool) -> (KafkaConfig, FutureProducer) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,saga_messaging=info".into()),
        )
        .with_test_writer()
        .try_init();
    let kafka = isolated_kafka();
    let mut topics = vec![kafka.topic(EventType::OrderCancelled)];
    if with_dlq {
        topics.push(kafka.dlq_topic(EventType::OrderCancelled));
    }
    ensure_named_topics(&kafka, &topics).await.unwrap();
    let producer = build_producer(&kafka).unwrap();
    (kafka, producer)
}

fn cancelled(reason: &str) -> Envelope {
    Envelope::new(
        "test",
        OrderCancelled {
            order_id: Uuid::now_v7(),
            customer_id: Uuid::nil(),
            reason: reason.into(),
        },
    )
}

/// Publishes `event` to one partition of the `order.cancelled` topic and waits for its ack.
async fn publish_to(
    producer: &FutureProducer,
    kafka: &KafkaConfig,
    partition: i32,
    event: &Envelope,
) {
    let (topic, body, key) = (
        kafka.topic(EventType::OrderCancelled),
        event.to_json(),
        event.key(),
    );
    producer
        .send(
            FutureRecord::to(&topic)
                .partition(partition)
                .key(&key)
                .payload(&body),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
}

fn runner(kafka: &KafkaConfig, handler: impl Handler) -> ConsumerRunner {
    ConsumerRunner::new(
        kafka.clone(),
        SERVICE,
        &[EventType::OrderCancelled],
        handler,
    )
    .retry_policy(RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    })
}

/// The offsets the group has committed on the `order.cancelled` topic, summed.
fn committed_total(kafka: &KafkaConfig) -> i64 {
    let probe: StreamConsumer = kafka
        .consumer_config(&kafka.group_id(SERVICE))
        .create()
        .unwrap();
    let topic = kafka.topic(EventType::OrderCancelled);
    let mut tpl = TopicPartitionList::new();
    for p in 0..kafka.partitions {
        tpl.add_partition(&topic, p);
    }
    let committed = probe
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    committed
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => o,
            _ => 0,
        })
        .sum()
}

/// Counts its calls per event, and for the runner it serves, taking `work` over each event.
#[derive(Clone)]
struct Counting {
    /// Calls per event id, shared by every runner's handler.
    calls: Arc<Mutex<HashMap<Uuid, u32>>>,
    /// This runner's calls.
    mine: Arc<AtomicUsize>,
    /// How long handling one event takes.
    work: Duration,
}

impl Counting {
    fn new(calls: &Arc<Mutex<HashMap<Uuid, u32>>>, work: Duration) -> Self {
        Counting {
            calls: calls.clone(),
            mine: Arc::default(),
            work,
        }
    }
}

#[async_trait]
impl Handler for Counting {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(event.event_id)
            .or_default() += 1;
        self.mine.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.work).await;
        Ok(Outcome::Applied)
    }
}

/// A second consumer of the group joins while the first has hundreds of events queued: the
/// first one's workers stop at the revocation instead of applying their queues beside the
/// partitions' new owners, so only the events in hand at the revocation are handled twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_partitions_queued_events_are_left_to_its_new_owner() {
    let (kafka, producer) = setup(true).await;
    let per_partition = 120;
    let events: Vec<(i32, Envelope)> = (0..kafka.partitions)
        .flat_map(|p| (0..per_partition).map(move |_| (p, cancelled("ok"))))
        .collect();
    futures::future::join_all(
        events
            .iter()
            .map(|(p, e)| publish_to(&producer, &kafka, *p, e)),
    )
    .await;

    let calls = Arc::new(Mutex::new(HashMap::new()));
    let work = Duration::from_millis(40);
    let (first, second) = (Counting::new(&calls, work), Counting::new(&calls, work));
    let shutdown = CancellationToken::new();
    let one = tokio::spawn(runner(&kafka, first.clone()).run(shutdown.clone()));
    // The first consumer has read its backlog into its workers' queues and is working on it.
    wait_for(
        "the first consumer to be at work",
        Duration::from_secs(60),
        || {
            let n = first.mine.load(Ordering::SeqCst);
            async move { (n >= 2 * kafka.partitions as usize).then_some(()) }
        },
    )
    .await;
    let two = tokio::spawn(runner(&kafka, second.clone()).run(shutdown.clone()));
    wait_for(
        "the second consumer to be given partitions",
        Duration::from_secs(60),
        || {
            let n = second.mine.load(Ordering::SeqCst);
            async move { (n > 0).then_some(()) }
        },
    )
    .await;
    wait_for("every event handled", Duration::from_secs(120), || {
        let handled = calls.lock().unwrap().len();
        let all = events.len();
        async move { (handled == all).then_some(()) }
    })
    .await;
    shutdown.cancel();
    one.await.unwrap().unwrap();
    two.await.unwrap().unwrap();

    let calls = calls.lock().unwrap();
    let total: u32 = calls.values().sum();
    let twice = calls.values().filter(|&&n| n > 1).count();
    eprintln!(
        "{} events, {total} handler calls ({} by the first consumer, {} by the second); {twice} events handled more than once",
        events.len(),
        first.mine.load(Ordering::SeqCst),
        second.mine.load(Ordering::SeqCst),
    );
    // At most the event in hand on each partition at each revocation (there may be two
    // rounds while the second consumer joins); without the revocation, the first consumer
    // went on with everything it had queued.
    let in_hand = 2 * kafka.partitions as u32;
    assert!(
        total <= events.len() as u32 + in_hand,
        "{total} calls for {} events: more than the {in_hand} in hand at the revocations were handled twice",
        events.len()
    );
}

/// A handler whose future panics when it is dropped, after the event was handled: the panic
/// escapes the runner's `catch_unwind` around the call and kills the partition's worker.
struct DiesAfterHandling {
    calls: Arc<AtomicUsize>,
}

/// A future that is ready at once and panics when dropped.
struct PanicsWhenDropped;

impl Future for PanicsWhenDropped {
    type Output = Result<Outcome, HandlerError>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(Outcome::Applied))
    }
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("dropped in anger");
        }
    }
}

/// Written out by hand, as `#[async_trait]` would, to return the custom future.
impl Handler for DiesAfterHandling {
    fn handle<'life0, 'life1, 'async_trait>(
        &'life0 self,
        _event: &'life1 Envelope,
    ) -> Pin<Box<dyn Future<Output = Result<Outcome, HandlerError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(PanicsWhenDropped)
    }
}

/// A dead partition worker stops the runner with an error naming the partition and the panic:
/// before, the session ended as a clean shutdown (or not at all, until the partition's next
/// message), and the service ran on without its consumer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_partition_worker_stops_the_runner_with_an_error() {
    let (kafka, producer) = setup(true).await;
    publish_to(&producer, &kafka, 2, &cancelled("ok")).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = DiesAfterHandling {
        calls: calls.clone(),
    };
    let shutdown = CancellationToken::new();
    let run = runner(&kafka, handler).run(shutdown.clone());
    let ended = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the runner stops by itself once its worker died");
    let Err(ConsumerError::WorkerDied {
        topic,
        partition,
        panic,
    }) = &ended
    else {
        panic!("not a dead worker: {ended:?}");
    };
    assert_eq!(topic, &kafka.topic(EventType::OrderCancelled));
    assert_eq!(*partition, 2);
    assert!(panic.contains("dropped in anger"), "{panic}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(!shutdown.is_cancelled(), "nobody asked it to stop");
}

/// Records that it was called, then never returns: a store that hangs.
#[derive(Clone, Default)]
struct Hangs {
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Handler for Hangs {
    async fn handle(&self, _event: &Envelope) -> Result<Outcome, HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

/// Cancels `shutdown` and waits for the runner to stop, which it must do promptly.
async fn stop_promptly(
    shutdown: &CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ConsumerError>>,
) {
    shutdown.cancel();
    let asked = Instant::now();
    let ended = tokio::time::timeout(PROMPT_SHUTDOWN, task).await;
    let took = asked.elapsed();
    ended
        .unwrap_or_else(|_| panic!("the runner had not stopped {PROMPT_SHUTDOWN:?} after shutdown"))
        .unwrap()
        .unwrap();
    eprintln!("the runner stopped {took:?} after shutdown");
}

/// A handler call that hangs (a store that does not answer) holds shutdown up for the grace
/// only; the message's offset is not stored, so the next owner handles it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_handler_that_hangs() {
    let (kafka, producer) = setup(true).await;
    publish_to(&producer, &kafka, 0, &cancelled("ok")).await;
    let handler = Hangs::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&kafka, handler.clone()).run(shutdown.clone()));
    wait_for("the handler to be called", Duration::from_secs(60), || {
        let n = handler.calls.load(Ordering::SeqCst);
        async move { (n > 0).then_some(()) }
    })
    .await;
    stop_promptly(&shutdown, task).await;
    assert_eq!(
        committed_total(&kafka),
        0,
        "the hung message's offset is not committed"
    );
}

/// Fails every event permanently, so that each is dead-lettered.
#[derive(Clone, Default)]
struct Poison {
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Handler for Poison {
    async fn handle(&self, _event: &Envelope) -> Result<Outcome, HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(HandlerError::permanent(anyhow::anyhow!("poison pill")))
    }
}

/// The broker will not take the dead letter, and the producer keeps trying: here its topic is
/// missing (the broker creates no topic on its own), which the producer waits out for
/// `topic.metadata.propagation.max.ms` (30 s) per send, as it waits `message.timeout.ms`
/// (60 s) for a broker that is down. Shutdown does not wait for that, and the messages'
/// offsets are not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_dead_letter_the_broker_will_not_take() {
    let (kafka, producer) = setup(false).await;
    // The premise: a dead letter is not taken, and is retried until the producer gives up.
    let impatient: FutureProducer = kafka
        .producer_config()
        .set("message.timeout.ms", "2000")
        .create()
        .unwrap();
    let probe = impatient
        .send(
            FutureRecord::to(&kafka.dlq_topic(EventType::OrderCancelled))
                .key("probe")
                .payload("probe"),
            Duration::from_secs(10),
        )
        .await;
    assert!(probe.is_err(), "the dead-letter topic takes no records");

    for p in 0..2 {
        publish_to(&producer, &kafka, p, &cancelled("poison")).await;
    }
    let handler = Poison::default();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(&kafka, handler.clone()).run(shutdown.clone()));
    wait_for(
        "both messages to be on their way to the dead-letter topic",
        Duration::from_secs(60),
        || {
            let n = handler.calls.load(Ordering::SeqCst);
            async move { (n >= 2).then_some(()) }
        },
    )
    .await;
    stop_promptly(&shutdown, task).await;
    assert_eq!(
        committed_total(&kafka),
        0,
        "the offsets of messages whose dead letters were not acknowledged are not committed"
    );
}
