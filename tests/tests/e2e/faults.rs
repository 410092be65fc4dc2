//! Scenarios 6–9: the saga under faults: a service down past the deadline, `kill -9` of each
//! service mid-burst, a broker restart mid-burst, and a replay of every topic from the start.
//! Scenarios 7 and 9 are also run with inventory on MongoDB (`mongo.rs`), through the
//! functions that take the system's [`Options`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::actions::{money, Actor};
use super::checker::World;
use super::checker::{diff, public_state};
use super::groups;
use super::harness::{Options, PrivateBroker, Service, System};
use super::workload::{self, Burst, BurstSpec, MixSpec};

/// `E2E_BURST`: orders per burst in scenarios 7, 8 and 12–18.
pub(super) fn burst_size() -> usize {
    std::env::var("E2E_BURST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

pub(super) async fn wait_placed(
    placed: &AtomicUsize,
    at_least: usize,
    done: &tokio::task::JoinHandle<workload::Burst>,
) {
    while placed.load(Ordering::Relaxed) < at_least && !done.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(super) fn reasons(world: &super::checker::World) -> BTreeMap<String, usize> {
    let mut r = BTreeMap::new();
    for o in world.orders.values() {
        let key = format!("{} {}", o.status, o.reason.as_deref().unwrap_or(""));
        *r.entry(key.trim().to_owned()).or_default() += 1;
    }
    r
}

/// Sets up a mix of customers and SKUs (some poor, some scarce) and starts a burst of `n`
/// orders through `actor`, every `new_customer_every`-th for a new customer.
pub(super) async fn start_burst(
    actor: &Actor,
    n: usize,
    new_customer_every: usize,
    seed: u64,
) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<Burst>) {
    let spec = BurstSpec {
        n,
        concurrency: 4,
        new_customer_every,
        per_second: None,
        seed,
    };
    start_burst_with(actor, spec).await
}

/// [`start_burst`] with every setting of the burst: its pace, say.
pub(super) async fn start_burst_with(
    actor: &Actor,
    spec: BurstSpec,
) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<Burst>) {
    let mix = workload::setup(
        actor,
        &MixSpec {
            customers: 10,
            poor_every: 4,
            skus: 8,
            scarce_every: 4,
        },
    )
    .await;
    let placed = Arc::new(AtomicUsize::new(0));
    let burst = {
        let (a, placed) = (actor.clone(), placed.clone());
        tokio::spawn(async move { workload::burst_with(&a, &mix, &spec, placed).await })
    };
    (placed, burst)
}

/// Waits for the burst to end and checks that every order was placed.
pub(super) async fn finish_burst(n: usize, burst: tokio::task::JoinHandle<Burst>) {
    let burst = burst.await.expect("the burst");
    eprintln!(
        "e2e: {n} orders placed in {:.1}s ({} for new customers)",
        burst.posted_in.as_secs_f64(),
        burst.new_customers
    );
    assert!(
        burst.failures.is_empty(),
        "{} orders could not be placed:\n{}",
        burst.failures.len(),
        burst.failures.join("\n")
    );
}

/// 6. Deadline: with billing stopped, the order is cancelled at the deadline and its stock
/// released; billing, restarted, then sees `order.created` and `order.cancelled` late, and
/// whatever it does (charge then refund, or a tombstone) leaves the invariants whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s06_deadline_with_billing_stopped() {
    let timeout = 5.0;
    let sys = System::start_with(Options {
        order_timeout_secs: timeout,
        ..Options::default()
    })
    .await;
    let a = sys.actor();
    let customer = a.customer(money("100.00")).await;
    let sku = a.product("DEADLINE", money("4.00"), 10).await;
    let api = a.api.clone();
    saga_messaging::testing::wait_for(
        "billing to open the account",
        Duration::from_secs(30),
        || {
            let api = api.clone();
            async move { api.account(customer).await.ok() }
        },
    )
    .await;

    sys.stop(Service::Billing).await;
    let (placed, _) = a.order(customer, &[(sku.clone(), 2)]).await;
    let order = a
        .terminal(
            placed.id,
            Duration::from_secs_f64(timeout) + Duration::from_secs(20),
        )
        .await;
    assert_eq!(order.status, "CANCELLED", "{order:#?}");
    assert_eq!(order.reason.as_deref(), Some("timeout"));
    let took = (order.terminal_at().expect("a terminal history entry") - order.created_at)
        .num_milliseconds() as f64
        / 1000.0;
    eprintln!(
        "e2e: order {} cancelled {took:.2}s after it was placed (deadline {timeout}s)",
        order.id
    );
    assert!(
        took >= timeout - 0.05 && took <= timeout + 5.0,
        "cancelled after {took}s, deadline {timeout}s"
    );
    let api = a.api.clone();
    let sku2 = sku.clone();
    saga_messaging::testing::wait_for(
        "the reservation to be released",
        Duration::from_secs(20),
        || {
            let api = api.clone();
            let sku = sku2.clone();
            async move {
                let p = api.product(&sku).await.ok()?;
                (p.reserved == 0 && p.available == 10).then_some(())
            }
        },
    )
    .await;

    sys.start_service(Service::Billing).await;
    let billing_groups: BTreeMap<String, Vec<String>> = groups::groups(&sys)
        .into_iter()
        .filter(|(g, _)| g.starts_with(&sys.kafka.group_id("billing")))
        .collect();
    assert!(
        !billing_groups.is_empty(),
        "billing's consumer groups, from its log"
    );
    groups::wait_caught_up(&sys.kafka, &billing_groups, Duration::from_secs(90)).await;
    let world = sys.check(Duration::from_secs(30)).await;
    let id = order.id.to_string();
    let late: Vec<String> = sys
        .log(Service::Billing)
        .lines()
        .filter(|l| l.contains(&id) && (l.contains("billing::saga") || l.contains("tombstone")))
        .map(|l| l.split("billing::saga::").nth(1).unwrap_or(l).to_owned())
        .collect();
    eprintln!(
        "e2e: billing late: {late:?}; payment now {:?}",
        world.payment(&order).map(|p| &p.status)
    );
    assert_eq!(world.accounts[&customer].balance, money("100.00"));
}

/// 7. Crash: `kill -9` of each service in turn in the middle of a burst of mixed orders, each
/// restarted at once. Every order ends terminal, the invariants hold, nothing is charged twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s07_kill_each_service_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let spec = BurstSpec {
        n,
        concurrency: 4,
        new_customer_every: 10,
        per_second: None,
        seed: 7,
    };
    let (_sys, world) = kill_mid_burst(Options::default(), &Service::ALL, spec).await;
    eprintln!(
        "e2e: scenario 7 with {n} orders took {:.1}s; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
}

/// Scenario 7 on a system started with `options`: a burst as `spec` says, during which each
/// of `services` in turn is killed (`kill -9`) and restarted at once, the `i`-th of `k` when
/// `(2i + 1) / 2k` of the orders are placed. Returns the system, still running, and what the
/// invariant checker read.
pub(super) async fn kill_mid_burst(
    options: Options,
    services: &[Service],
    spec: BurstSpec,
) -> (System, World) {
    let n = spec.n;
    let sys = System::start_with(options).await;
    let (placed, burst) = start_burst_with(&sys.actor(), spec).await;
    let k = services.len();
    for (i, &service) in services.iter().enumerate() {
        wait_placed(&placed, (2 * i + 1) * n / (2 * k), &burst).await;
        eprintln!(
            "e2e: {} of {n} orders placed; killing {}",
            placed.load(Ordering::Relaxed),
            service.name()
        );
        sys.kill(service);
        sys.start_service(service).await;
        let resumed = groups::wait_resumed(&sys, service, Duration::from_secs(60)).await;
        eprintln!(
            "e2e: {} consuming again {:.1}s after it was ready",
            service.name(),
            resumed.as_secs_f64()
        );
    }
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(90)).await;
    assert_eq!(world.orders.len(), n);
    (sys, world)
}

/// 9. Replay: after a mixed workload has settled, every service's consumer groups are reset to
/// the beginning of every topic they read, and the services run the whole history again.
/// Nothing visible changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s09_replay_from_the_beginning_changes_nothing() {
    replay_from_the_beginning(Options::default()).await;
}

/// Scenario 9 on a system started with `options`; returns the system, still running.
pub(super) async fn replay_from_the_beginning(options: Options) -> System {
    let sys = System::start_with(options).await;
    let a = sys.actor();
    let mix = workload::setup(
        &a,
        &MixSpec {
            customers: 5,
            poor_every: 3,
            skus: 5,
            scarce_every: 3,
        },
    )
    .await;
    a.restock(&mix.skus[2], 3).await;
    a.deposit(mix.customers[2], money("7.50")).await;
    let placed = Arc::new(AtomicUsize::new(0));
    let burst = workload::burst(&a, &mix, 30, 4, 10, placed, 9).await;
    assert!(burst.failures.is_empty(), "{:?}", burst.failures);
    sys.check(Duration::from_secs(30)).await;

    let groups = groups::groups(&sys);
    assert!(
        groups.len() >= 4,
        "the services' consumer groups: {groups:?}"
    );
    groups::wait_caught_up(&sys.kafka, &groups, Duration::from_secs(60)).await;
    let ledger = sys.ledger.snapshot();
    let before = public_state(&sys.api, &ledger).await;

    sys.stop_all().await;
    let (kafka, g) = (sys.kafka.clone(), groups.clone());
    let progress = tokio::task::spawn_blocking(move || {
        let before = groups::progress(&kafka, &g);
        groups::reset_to_beginning(&kafka, &g);
        (before, groups::progress(&kafka, &g))
    })
    .await
    .unwrap();
    eprintln!(
        "e2e: (committed, lag) per group before the reset: {:?}",
        progress.0
    );
    for (group, (done, lag)) in &progress.1 {
        assert_eq!(
            *done, 0,
            "group {group} was not reset ({done} committed, lag {lag})"
        );
    }
    let replayed: i64 = progress.1.values().map(|(_, lag)| lag).sum();
    assert!(replayed > 0);

    sys.start_all().await;
    groups::wait_caught_up(&sys.kafka, &groups, Duration::from_secs(120)).await;
    sys.check(Duration::from_secs(30)).await;
    groups::wait_caught_up(&sys.kafka, &groups, Duration::from_secs(60)).await;
    let after = public_state(&sys.api, &ledger).await;
    let changes = diff(&before, &after);
    assert!(
        changes.is_empty(),
        "replaying {replayed} messages changed the public state:\n{}",
        changes.join("\n")
    );
    eprintln!(
        "e2e: replayed {replayed} messages through {} consumer groups; nothing changed ({} values compared)",
        groups.len(),
        before.len()
    );
    sys
}

/// 8. Broker restart in the middle of a burst (`scripts/stack restart-broker`, storage kept).
/// The test runs its own broker on a free port, so that the restart disturbs no other test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s08_broker_restart_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let broker = PrivateBroker::start().await;
    let sys = System::start_with(Options {
        brokers: Some(broker.brokers()),
        ..Options::default()
    })
    .await;
    let (placed, burst) = start_burst(&sys.actor(), n, 10, 8).await;
    wait_placed(&placed, n / 2, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; restarting the broker",
        placed.load(Ordering::Relaxed)
    );
    let took = broker.restart().await;
    eprintln!("e2e: broker restarted in {:.1}s", took.as_secs_f64());
    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(120)).await;
    assert_eq!(world.orders.len(), n);
    eprintln!(
        "e2e: scenario 8 with {n} orders took {:.1}s; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        reasons(&world)
    );
    drop(sys);
}
