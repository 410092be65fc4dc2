//! Scenario 11: load. Prints throughput and latency as information; asserts only invariants.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::harness::{Options, System};
use super::workload::{self, percentile, MixSpec};

/// 11. `E2E_LOAD_ORDERS` (default 1,000) orders from 50 customers over 20 SKUs, some bound to
/// fail (every 5th customer is poor, every 5th SKU scarce). The invariants hold; completed
/// sagas per second and p50/p99 order-to-terminal latency are printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s11_load() {
    let n: usize = std::env::var("E2E_LOAD_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let started = Instant::now();
    // A deadline long enough that a backlog under load is not what cancels orders.
    let sys = System::start_with(Options {
        order_timeout_secs: 120.0,
        ..Options::default()
    })
    .await;
    let a = sys.actor();
    let mix = workload::setup(
        &a,
        &MixSpec {
            customers: 50,
            poor_every: 5,
            skus: 20,
            scarce_every: 5,
        },
    )
    .await;
    let load_started = Instant::now();
    let burst = workload::burst(&a, &mix, n, 8, 0, Arc::new(AtomicUsize::new(0)), 11).await;
    let posted = burst.posted_in;
    assert!(burst.failures.is_empty(), "{:?}", burst.failures);
    let world = sys.check(Duration::from_secs(600)).await;
    let settled = load_started.elapsed();
    assert_eq!(world.orders.len(), n);

    let mut latencies: Vec<f64> = world
        .orders
        .values()
        .filter_map(|o| {
            let end = o.terminal_at()?;
            Some((end - o.created_at).num_milliseconds() as f64 / 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let first = world.orders.values().map(|o| o.created_at).min().unwrap();
    let last = world
        .orders
        .values()
        .filter_map(|o| o.terminal_at())
        .max()
        .unwrap();
    let span = (last - first).num_milliseconds() as f64 / 1000.0;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for o in world.orders.values() {
        let key = format!("{} {}", o.status, o.reason.as_deref().unwrap_or(""));
        *outcomes.entry(key.trim().to_owned()).or_default() += 1;
    }
    eprintln!(
        "e2e load: {n} orders from {} customers over {} SKUs: posted in {:.1}s, all terminal {:.1}s after the first was placed",
        mix.customers.len(),
        mix.skus.len(),
        posted.as_secs_f64(),
        span
    );
    eprintln!(
        "e2e load: {:.1} completed sagas/s; order-to-terminal latency p50 {:.3}s, p99 {:.3}s, max {:.3}s",
        n as f64 / span,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    eprintln!("e2e load: outcomes {outcomes:?}");
    eprintln!(
        "e2e load: scenario took {:.1}s in all ({:.1}s from the first order to quiescence checked)",
        started.elapsed().as_secs_f64(),
        settled.as_secs_f64()
    );
    assert_eq!(
        latencies.len(),
        n,
        "every order has a terminal history entry"
    );
}
