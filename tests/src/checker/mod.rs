//! The invariant checker (SPEC §5). It reads only the public HTTP APIs, and knows only what the
//! scenario did through them: the customers it created (credit limit, deposits), the SKUs
//! (initial stock, restocks) and the orders it placed. It polls until every check passes (twice
//! in a row, so that a passing moment in the middle of late work does not count) or a deadline
//! passes, and then reports every violation with the ids involved.
//!
//! - `ledger`: what the scenario did ([`Ledger`]), the checker's expectations;
//! - `world`: what the APIs show ([`World`]), as one pass read it;
//! - `orders`, `stock`, `money`, `notifications`: the invariants, one group each;
//! - `state`: the public state as JSON and its diff, for "nothing changed" assertions.

use std::time::{Duration, Instant};

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

/// Polls until every invariant holds (twice in a row) or `within` passes; then panics with
/// every violation. Returns what it read.
pub async fn assert_invariants(api: &Api, ledger: &Ledger, within: Duration) -> World {
    await_invariants(api, ledger, within)
        .await
        .unwrap_or_else(|violations| panic!("{violations}"))
}

/// Polls until every invariant holds (twice in a row): `Ok` with what it read. If `within`
/// passes first, `Err` with every violation, one per line.
pub async fn await_invariants(
    api: &Api,
    ledger: &Ledger,
    within: Duration,
) -> Result<World, String> {
    let started = Instant::now();
    let deadline = started + within;
    let mut passes = 0;
    loop {
        let passed_deadline = Instant::now() > deadline;
        let (world, violations) = check_once(api, &ledger.snapshot(), passed_deadline).await;
        if violations.is_empty() {
            passes += 1;
            if passes == 2 {
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
        } else {
            passes = 0;
        }
        if passed_deadline {
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
        tokio::time::sleep(Duration::from_millis(if passes > 0 { 500 } else { 300 })).await;
    }
}
