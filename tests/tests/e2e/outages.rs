//! Scenarios 12–15: a store or the broker taken away in the middle of a burst, and every
//! service run twice with one of each killed. Each ends with the invariant checker and with
//! every dead-letter topic of the run empty: the workload holds only valid events, so anything
//! dead-lettered would be an event lost (SPEC §2.7, §5).
//!
//! The outages are longer than the consumers' old retry budget (about 25 s of backoff, or two
//! minutes with PostgreSQL's pool timeout), which dead-lettered valid events, compensations
//! included, once it ran out.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use saga_messaging::KafkaConfig;
use serde_json::Value;

use super::actions::Actor;
use super::client::Api;
use super::faults::{burst_size, finish_burst, reasons, start_burst, wait_placed};
use super::harness::{Options, PrivateBroker, Service, System};
use super::stores::{PrivatePostgres, PrivateRedis};

/// The counter of attempts retried because a store was unavailable.
const UNAVAILABLE_RETRIES: &str = "events_unavailable_retries_total";

/// Every dead letter of the run's namespace: there must be none. Returns how many there are
/// (0), for the scenario's summary line.
pub(super) async fn assert_no_dead_letters(kafka: &KafkaConfig) -> usize {
    let letters = saga_dlq::read_all(kafka)
        .await
        .expect("reading the run's dead-letter topics");
    let lines: Vec<String> = letters
        .iter()
        .map(|l| {
            format!(
                "{} ({} of {}, after {} attempts): {}",
                l.id,
                l.reason.as_deref().unwrap_or("?"),
                l.event_type.as_deref().unwrap_or("?"),
                l.attempts.unwrap_or(0),
                l.error.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        letters.is_empty(),
        "{} valid events were dead-lettered:\n{}",
        letters.len(),
        lines.join("\n")
    );
    letters.len()
}

/// Waits until `service`'s `/ready` answers 503 with the check `check` failing, and returns
/// its body: `/ready` names the dependency that is down.
pub(super) async fn wait_unready(api: &Api, service: Service, check: &str) -> Value {
    let check = check.to_owned();
    saga_messaging::testing::wait_for(
        &format!("{}'s /ready to report {check} down", service.name()),
        Duration::from_secs(30),
        || {
            let (api, check) = (api.clone(), check.clone());
            async move {
                let (status, body) = api.readiness(service).await?;
                let failing = body["checks"][&check]
                    .as_str()
                    .is_some_and(|v| v.starts_with("error"));
                (status == 503 && failing).then_some(body)
            }
        },
    )
    .await
}

/// Attempts retried for an unavailable store, summed over `services`.
pub(super) async fn unavailable_retries(api: &Api, services: &[Service]) -> f64 {
    let mut total = 0.0;
    for &s in services {
        total += api
            .counter(s, UNAVAILABLE_RETRIES)
            .await
            .unwrap_or_else(|e| panic!("{}'s /metrics: {e}", s.name()));
    }
    total
}

/// Holds an outage for its whole length, with a progress line every 15 s. The length is the
/// scenario's input, not a wait for something to happen.
pub(super) async fn hold_outage(what: &str, length: Duration) {
    let started = Instant::now();
    while started.elapsed() < length {
        let left = length.saturating_sub(started.elapsed());
        eprintln!("e2e: {what} down, {:.0}s to go", left.as_secs_f64());
        tokio::time::sleep(left.min(Duration::from_secs(15))).await;
    }
}

/// 12. PostgreSQL down for 90 s: the server holding inventory's and billing's databases is
/// stopped a third of the way into a burst, and started again 90 s later. Orders (on another
/// server) go on being placed, and time out meanwhile, so compensations (`order.cancelled`)
/// queue up for the two services whose store is down. They wait, retrying, and apply every
/// event once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s12_postgres_down_90s_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let pg = PrivatePostgres::start().await;
    let sys = System::start_with(Options {
        stores_postgres: Some(pg.admin_url()),
        ..Options::default()
    })
    .await;
    let (placed, burst) = start_burst(&sys.actor(), n, 10, 12).await;
    wait_placed(&placed, n / 3, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; stopping inventory's and billing's PostgreSQL",
        placed.load(Ordering::Relaxed)
    );
    pg.stop_server().await;
    let down = Instant::now();
    for service in [Service::Billing, Service::Inventory] {
        let body = wait_unready(&sys.api, service, "postgres").await;
        eprintln!("e2e: {} /ready: {body}", service.name());
    }
    hold_outage(
        "PostgreSQL",
        Duration::from_secs(90).saturating_sub(down.elapsed()),
    )
    .await;
    pg.start_server().await;
    eprintln!(
        "e2e: PostgreSQL started again after {:.1}s",
        down.elapsed().as_secs_f64()
    );
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(180)).await;
    assert_eq!(world.orders.len(), n);
    let retries = unavailable_retries(&sys.api, &[Service::Billing, Service::Inventory]).await;
    assert!(
        retries > 0.0,
        "no attempt waited for PostgreSQL: the outage did not meet the consumers"
    );
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario 12 with {n} orders took {:.1}s: {retries} attempts retried while \
         PostgreSQL was down, {dead} dead letters, invariants hold; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
}

/// 13. Redis down for 60 s: notification's Redis is stopped a third of the way into a burst
/// and started again (on its append-only file) 60 s later. Notification waits, retrying, and
/// sends every notification once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s13_redis_down_60s_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let mut redis = PrivateRedis::start().await;
    let sys = System::start_with(Options {
        redis_url: Some(redis.url()),
        ..Options::default()
    })
    .await;
    let (placed, burst) = start_burst(&sys.actor(), n, 10, 13).await;
    wait_placed(&placed, n / 3, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; stopping notification's Redis",
        placed.load(Ordering::Relaxed)
    );
    redis.stop_server().await;
    let down = Instant::now();
    let body = wait_unready(&sys.api, Service::Notification, "redis").await;
    eprintln!("e2e: notification /ready: {body}");
    hold_outage(
        "Redis",
        Duration::from_secs(60).saturating_sub(down.elapsed()),
    )
    .await;
    redis.start_server().await;
    eprintln!(
        "e2e: Redis started again after {:.1}s",
        down.elapsed().as_secs_f64()
    );
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(120)).await;
    assert_eq!(world.orders.len(), n);
    let retries = unavailable_retries(&sys.api, &[Service::Notification]).await;
    assert!(
        retries > 0.0,
        "no attempt waited for Redis: the outage did not meet the consumer"
    );
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario 13 with {n} orders took {:.1}s: {retries} attempts retried while Redis \
         was down, {dead} dead letters, invariants hold; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
}

/// 14. The broker down for 60 s (stopped, its log kept, then started) a third of the way into
/// a burst. Orders are still accepted into the outboxes; everything flows once it is back.
/// The burst's customers all exist beforehand: a new one's first order waits for
/// `customer.created`, which cannot travel while the broker is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s14_broker_down_60s_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let broker = PrivateBroker::start().await;
    let sys = System::start_with(Options {
        brokers: Some(broker.brokers()),
        ..Options::default()
    })
    .await;
    let (placed, burst) = start_burst(&sys.actor(), n, 0, 14).await;
    wait_placed(&placed, n / 3, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; stopping the broker",
        placed.load(Ordering::Relaxed)
    );
    broker.stop().await;
    let down = Instant::now();
    hold_outage("the broker", Duration::from_secs(60)).await;
    let took = broker.start_again().await;
    eprintln!(
        "e2e: broker started again after {:.1}s (start took {:.1}s)",
        down.elapsed().as_secs_f64(),
        took.as_secs_f64()
    );
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(180)).await;
    assert_eq!(world.orders.len(), n);
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario 14 with {n} orders took {:.1}s: {dead} dead letters, invariants hold; \
         outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
    drop(sys);
}

/// 15. Scale out: every service runs as two instances (the same consumer groups, stores and
/// outboxes). The burst goes through the second instances; the first instance of each service,
/// which started first and so holds the outbox relay's lease, is killed (`kill -9`) in turn
/// during the burst and not restarted. The survivors take over its partitions and its relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s15_two_instances_of_each_one_killed_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let sys = System::start().await;
    let survivors = sys.start_second_instances().await;
    let actor = Actor {
        api: survivors.clone(),
        ledger: sys.ledger.clone(),
    };
    let (placed, burst) = start_burst(&actor, n, 10, 15).await;
    for (i, service) in Service::ALL.into_iter().enumerate() {
        wait_placed(&placed, (2 * i + 1) * n / 10, &burst).await;
        eprintln!(
            "e2e: {} of {n} orders placed; killing the first {}",
            placed.load(Ordering::Relaxed),
            service.name()
        );
        sys.kill_instance((service, 0));
    }
    finish_burst(n, burst).await;
    let world = sys.check_through(&survivors, Duration::from_secs(90)).await;
    assert_eq!(world.orders.len(), n);
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario 15 with {n} orders took {:.1}s: {dead} dead letters, invariants hold; \
         outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
}
