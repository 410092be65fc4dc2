//! The two ways of offering load, both through `POST /orders` only:
//! - the **open loop** places orders on a fixed schedule (`rate` per second), whether or not
//!   earlier ones have finished, as independent users would; latency then shows queueing;
//! - the **closed loop** runs `clients` clients, each placing an order and waiting for it to
//!   become terminal before placing the next: throughput at a fixed concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::actions::Actor;
use crate::client::Order;
use crate::workload::{lines, Mix, Rng};

/// What a loop placed.
pub struct Placed {
    /// The orders accepted (202), in the order they were placed.
    pub orders: Vec<Uuid>,
    /// Orders that could not be placed, and why.
    pub failures: Vec<String>,
    /// From the first order offered to the last.
    pub offered_for: Duration,
}

/// Places orders at `rate` per second for `duration`, each on its own task.
pub async fn open_loop(
    actor: &Actor,
    mix: &Mix,
    rate: f64,
    duration: Duration,
    seed: u64,
) -> Placed {
    let n = (rate * duration.as_secs_f64()).round().max(1.0) as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut rng = Rng::new(seed);
    let started = tokio::time::Instant::now();
    let progress = Progress::new(n);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        tokio::time::sleep_until(started + period * i as u32).await;
        let customer = mix.customers[rng.below(mix.customers.len() as u64) as usize];
        let items = lines(&mut rng, mix);
        let actor = actor.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let placed = actor.try_order(customer, &items).await.map(|(o, _)| o.id);
            progress.tick();
            placed
        }));
    }
    let offered_for = started.elapsed();
    let mut placed = Placed {
        orders: Vec::with_capacity(n),
        failures: Vec::new(),
        offered_for,
    };
    for task in tasks {
        match task.await.expect("an order task") {
            Ok(id) => placed.orders.push(id),
            Err(e) => placed.failures.push(e),
        }
    }
    placed
}

/// Runs `clients` clients for `duration`; each places an order, waits until it is terminal
/// (polling `GET /orders/{id}` every `poll`), and places the next.
pub async fn closed_loop(
    actor: &Actor,
    mix: &Mix,
    clients: usize,
    duration: Duration,
    poll: Duration,
    seed: u64,
) -> Placed {
    let started = Instant::now();
    let progress = Progress::new(0);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (actor, mix, progress) = (actor.clone(), mix.clone(), progress.clone());
            tokio::spawn(async move {
                let mut rng = Rng::new(seed.wrapping_add(c as u64 * 7919));
                let mut mine = Placed {
                    orders: Vec::new(),
                    failures: Vec::new(),
                    offered_for: Duration::ZERO,
                };
                while started.elapsed() < duration {
                    let customer = mix.customers[rng.below(mix.customers.len() as u64) as usize];
                    let items = lines(&mut rng, &mix);
                    match actor.try_order(customer, &items).await {
                        Ok((order, _)) => {
                            mine.orders.push(order.id);
                            wait_terminal(&actor, order.id, poll).await;
                        }
                        Err(e) => mine.failures.push(e),
                    }
                    progress.tick();
                }
                mine
            })
        })
        .collect();
    let mut placed = Placed {
        orders: Vec::new(),
        failures: Vec::new(),
        offered_for: Duration::ZERO,
    };
    for task in tasks {
        let mine = task.await.expect("a client task");
        placed.orders.extend(mine.orders);
        placed.failures.extend(mine.failures);
    }
    placed.offered_for = started.elapsed();
    placed
}

/// Polls an order until it is terminal (or a minute passes: the report then counts it).
async fn wait_terminal(actor: &Actor, id: Uuid, poll: Duration) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if actor.api.order(id).await.is_ok_and(|o| o.is_terminal()) {
            return;
        }
        tokio::time::sleep(poll).await;
    }
}

/// Reads the orders until every one is terminal or `within` passes; returns what it read last.
pub async fn settle(actor: &Actor, ids: &[Uuid], within: Duration) -> Vec<Order> {
    let deadline = Instant::now() + within;
    let mut done: Vec<Order> = Vec::with_capacity(ids.len());
    let mut open: Vec<Uuid> = ids.to_vec();
    loop {
        let mut still = Vec::new();
        for id in open {
            match actor.api.order(id).await {
                Ok(o) if o.is_terminal() => done.push(o),
                Ok(o) if Instant::now() >= deadline => {
                    done.push(o);
                }
                _ => still.push(id),
            }
        }
        open = still;
        if open.is_empty() || Instant::now() >= deadline {
            eprintln!(
                "bench: {} of {} orders terminal",
                done.iter().filter(|o| o.is_terminal()).count(),
                ids.len()
            );
            return done;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A progress line about every five seconds while a loop runs.
#[derive(Clone)]
struct Progress {
    /// Orders offered so far.
    done: Arc<AtomicUsize>,
    /// How many the loop will offer (0: not known in advance).
    of: usize,
    /// When the loop started and when the last line was printed (seconds since).
    clock: Arc<(Instant, AtomicUsize)>,
}

impl Progress {
    fn new(of: usize) -> Progress {
        Progress {
            done: Arc::new(AtomicUsize::new(0)),
            of,
            clock: Arc::new((Instant::now(), AtomicUsize::new(0))),
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let secs = self.clock.0.elapsed().as_secs() as usize;
        let last = self.clock.1.load(Ordering::Relaxed);
        if secs >= last + 5
            && self
                .clock
                .1
                .compare_exchange(last, secs, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            if self.of > 0 {
                eprintln!("bench: {done}/{} orders placed ({secs}s)", self.of);
            } else {
                eprintln!("bench: {done} orders placed ({secs}s)");
            }
        }
    }
}
