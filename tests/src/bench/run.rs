//! One benchmark run: set up a fresh mix of customers and SKUs, warm the system up, offer the
//! load, wait for the sagas to end, sample CPU and the counts before and after, then check the
//! invariants.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::actions::Actor;
use crate::checker::{await_invariants, Ledger};
use crate::client::Api;
use crate::service::Service;
use crate::workload::{self, MixSpec};

use super::counts::Counter;
use super::report::Report;
use super::{cpu, drive, switches, system};

/// How the load is offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Orders on a fixed schedule, this many per second.
    Open { rate: f64 },
    /// This many clients, each waiting for its saga to end before the next.
    Closed { clients: usize },
}

/// What to run.
pub struct Plan {
    pub mode: Mode,
    pub duration: Duration,
    pub customers: usize,
    pub skus: usize,
    /// The services' saga deadline (`ORDER_TIMEOUT_SECS`): how long to wait for the last sagas.
    pub order_timeout: Duration,
}

/// What a run found.
pub struct Outcome {
    pub report: Report,
    /// Every invariant violated, one per line; `None` if all hold.
    pub violations: Option<String>,
    /// Orders that could not be placed, and why.
    pub not_placed: Vec<String>,
}

impl Outcome {
    /// All invariants hold and every order was placed.
    pub fn passed(&self) -> bool {
        self.violations.is_none() && self.not_placed.is_empty()
    }
}

/// Waits until the five services answer `/ready`.
pub async fn wait_ready(api: &Api, within: Duration) -> Result<(), String> {
    for service in Service::ALL {
        let deadline = Instant::now() + within;
        while !api.ready(service).await {
            if Instant::now() > deadline {
                return Err(format!(
                    "{} is not ready at {}; is the system running (scripts/start)?",
                    service.name(),
                    api.url(service, "/ready")
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

pub async fn run(api: &Api, plan: &Plan, stack_dir: &Path) -> Result<Outcome, String> {
    let actor = Actor {
        api: api.clone(),
        ledger: Arc::new(Ledger::default()),
    };
    eprintln!(
        "bench: setting up {} customers and {} SKUs (every 5th poor, every 5th scarce)",
        plan.customers, plan.skus
    );
    let spec = MixSpec {
        customers: plan.customers,
        poor_every: 5,
        skus: plan.skus,
        scarce_every: 5,
    };
    let mix = workload::setup(&actor, &spec).await;
    // The orders service learns customers and prices from events: one order per customer
    // (covering every SKU) waits until it knows them all, so the load starts on a warm system.
    eprintln!("bench: warming up (one order per customer)");
    for (i, &customer) in mix.customers.iter().enumerate() {
        let sku = mix.skus[i % mix.skus.len()].clone();
        actor
            .try_order(customer, &[(sku, 1)])
            .await
            .map_err(|e| format!("warm-up order failed: {e}"))?;
    }

    let inventory_store = system::inventory_store(api).await;
    let mut counter = Counter::connect(system::kafka()).await;
    let stores_before = counter.sample().await;
    let ticks = cpu::ticks_per_second();
    let threads_before = switches::sample(stack_dir);
    let before = cpu::sample(stack_dir, ticks);
    let secs = plan.duration.as_secs_f64();
    let (heading, placed) = match plan.mode {
        Mode::Open { rate } => {
            eprintln!("bench: open loop, {rate} orders/s for {secs:.0}s");
            (
                format!("open loop, {rate} orders/s offered for {secs:.0}s"),
                drive::open_loop(&actor, &mix, rate, plan.duration, 11).await,
            )
        }
        Mode::Closed { clients } => {
            eprintln!("bench: closed loop, {clients} clients for {secs:.0}s");
            let poll = Duration::from_millis(10);
            (
                format!("closed loop, {clients} clients for {secs:.0}s"),
                drive::closed_loop(&actor, &mix, clients, plan.duration, poll, 11).await,
            )
        }
    };
    let settle_within = plan.order_timeout + Duration::from_secs(10);
    let orders = drive::settle(&actor, &placed.orders, settle_within).await;
    let after = cpu::sample(stack_dir, ticks);
    let threads_after = switches::sample(stack_dir);
    let stores_after = counter.sample().await;
    let counts = counter.counts(
        (&stores_before, &stores_after),
        (&threads_before, &threads_after),
    );
    let report = Report {
        mode: heading,
        offered: placed.orders.len() + placed.failures.len(),
        offered_for: placed.offered_for,
        orders,
        failures: placed.failures.len(),
        cpu: cpu::spent(&before, &after),
        inventory_store,
        counts,
    };
    let within = plan.order_timeout + Duration::from_secs(30);
    let kafka = system::kafka()?;
    let violations = await_invariants(api, &kafka, &actor.ledger, within)
        .await
        .err();
    Ok(Outcome {
        report,
        violations,
        not_placed: placed.failures,
    })
}
