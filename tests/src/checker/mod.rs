//! The invariant checker (SPEC §5). It reads the system only through the public HTTP APIs, and
//! knows only what the scenario did through them: the customers it created (credit limit,
//! deposits), the SKUs (initial stock, restocks) and the orders it placed. It checks when the
//! run is quiescent, so that a passing moment in the middle of late work does not count: every
//! consumer group of the run has committed every partition it reads to its end (the broker's
//! offsets, the one thing it reads besides the APIs), and nothing was published while it
//! checked. It looks again until the checks pass or a deadline passes, and then reports every
//! violation with the ids involved, or which group is still behind on which partition.
//!
//! - `ledger`: what the scenario did ([`Ledger`]), the checker's expectations;
//! - `world`: what the APIs show ([`World`]), as one pass read it;
//! - `orders`, `stock`, `money`, `notifications`: the invariants, one group each;
//! - `state`: the public state as JSON and its diff, for "nothing changed" assertions.

use std::time::{Duration, Instant};

use saga_contracts::services::SERVICES;
use saga_messaging::testing::{behind, positions_of, Group, Position};
use saga_messaging::KafkaConfig;

use crate::client::Api;

mod ledger;
mod money;
mod notifications;
mod orders;
mod state;
mod stock;
mod world;

pub use ledger::{CustomerBook, Ledger, LedgerInner, SkuBook};
pub use state::{diff, public_state};
pub use world::World;

/// Reads the world through the public APIs and lists every violation of SPEC §5.
pub async fn check_once(
    api: &Api,
    ledger: &LedgerInner,
    deadline_passed: bool,
) -> (World, Vec<String>) {
    let mut world = World::default();
    let mut v = orders::read(api, ledger, &mut world).await;
    v.extend(orders::terminal(&world, deadline_passed));
    v.extend(stock::check(api, ledger, &mut world).await);
    v.extend(money::check(api, ledger, &mut world).await);
    v.extend(notifications::check(api, ledger, &mut world).await);
    (world, v)
}

/// Waits until the run is quiescent and every invariant holds, or `within` passes; then panics
/// with every violation, or with what was still behind. Returns what it read.
pub async fn assert_invariants(
    api: &Api,
    kafka: &KafkaConfig,
    ledger: &Ledger,
    within: Duration,
) -> World {
    await_invariants(api, kafka, ledger, within)
        .await
        .unwrap_or_else(|violations| panic!("{violations}"))
}

/// Waits until the run is quiescent, then checks every invariant: `Ok` with what it read. If
/// `within` passes first, `Err` with every violation, one per line, or with the consumer
/// groups still behind.
///
/// Quiescent: every consumer group of the run (`kafka`'s namespace) has committed every
/// partition of the topics it reads to its end, so every event published so far has been
/// handled; and no event was published while the check read the APIs (the partitions' ends
/// are the same after it). A check that finds violations is repeated: an order may still be
/// waiting for its deadline, or a saga for an event in a service's outbox.
pub async fn await_invariants(
    api: &Api,
    kafka: &KafkaConfig,
    ledger: &Ledger,
    within: Duration,
) -> Result<World, String> {
    let started = Instant::now();
    let deadline = started + within;
    loop {
        let passed_deadline = Instant::now() > deadline;
        let before = match caught_up(kafka).await {
            Ok(before) => before,
            Err(behind) if passed_deadline => {
                return Err(format!(
                    "not quiescent after {:.1}s: {behind}",
                    started.elapsed().as_secs_f64()
                ))
            }
            Err(_) => {
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        let (world, violations) = check_once(api, &ledger.snapshot(), passed_deadline).await;
        if violations.is_empty() {
            match caught_up(kafka).await {
                Ok(after) if after == before => {
                    eprintln!(
                        "e2e: invariants hold: {} orders ({} CONFIRMED, {} CANCELLED), {} SKUs, {} customers (checked in {:.1}s)",
                        world.orders.len(),
                        world.count("CONFIRMED"),
                        world.count("CANCELLED"),
                        world.products.len(),
                        world.accounts.len(),
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(world);
                }
                // Something was published during the check: look again.
                _ => {}
            }
        } else if passed_deadline {
            let shown: Vec<&String> = violations.iter().take(300).collect();
            return Err(format!(
                "{} invariant violation(s) after {:.1}s:\n  {}{}",
                violations.len(),
                started.elapsed().as_secs_f64(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  "),
                if violations.len() > shown.len() {
                    format!("\n  … and {} more", violations.len() - shown.len())
                } else {
                    String::new()
                }
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How long to wait between two looks at the groups' offsets, or two checks.
const POLL: Duration = Duration::from_millis(300);

/// The end of every partition the run's consumer groups read, if every group has committed
/// all of them; else which group is behind where (or why the broker could not say).
async fn caught_up(kafka: &KafkaConfig) -> Result<Vec<(String, i32, i64)>, String> {
    let positions = positions_of(kafka, &Group::of_services(kafka, &SERVICES))
        .await
        .map_err(|e| format!("asking the broker for the consumer groups' offsets: {e}"))?;
    if positions.iter().any(Position::behind) {
        return Err(format!(
            "consumer groups still behind:\n  {}",
            behind(&positions)
        ));
    }
    let mut ends: Vec<(String, i32, i64)> = positions
        .into_iter()
        .map(|p| (p.topic, p.partition, p.end))
        .collect();
    ends.sort();
    ends.dedup();
    Ok(ends)
}
