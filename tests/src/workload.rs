//! Mixed workloads: customers rich and poor, SKUs plentiful and scarce, and a burst of orders
//! over them, some bound to fail (not enough money, not enough stock).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::actions::{cents, money, retrying, Actor};

/// A small deterministic generator (xorshift64*), so a failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[derive(Clone)]
pub struct Mix {
    pub customers: Vec<Uuid>,
    pub skus: Vec<String>,
}

pub struct MixSpec {
    pub customers: usize,
    /// Every `poor_every`-th customer has a credit limit of 15.00 (others 5,000.00).
    pub poor_every: usize,
    pub skus: usize,
    /// Every `scarce_every`-th SKU has 6 units (others 100,000).
    pub scarce_every: usize,
}

pub async fn setup(a: &Actor, spec: &MixSpec) -> Mix {
    let customers = futures::stream::iter(0..spec.customers)
        .map(|i| {
            let a = a.clone();
            let poor = spec.poor_every > 0 && i % spec.poor_every == spec.poor_every - 1;
            async move {
                a.customer(if poor {
                    money("15.00")
                } else {
                    money("5000.00")
                })
                .await
            }
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    let skus = futures::stream::iter(0..spec.skus)
        .map(|i| {
            let a = a.clone();
            let scarce = spec.scarce_every > 0 && i % spec.scarce_every == spec.scarce_every - 1;
            let price = cents(100 + (i as i64 * 137) % 900);
            async move {
                a.product(
                    if scarce { "SCARCE" } else { "MIX" },
                    price,
                    if scarce { 6 } else { 100_000 },
                )
                .await
            }
        })
        .buffered(4)
        .collect::<Vec<_>>()
        .await;
    Mix { customers, skus }
}

/// The lines of the `i`-th order of a burst: 1 to 3 lines, 1 to 3 units each.
pub fn lines(rng: &mut Rng, mix: &Mix) -> Vec<(String, u32)> {
    let n = 1 + rng.below(3) as usize;
    let mut lines: Vec<(String, u32)> = Vec::new();
    for _ in 0..n {
        let sku = mix.skus[rng.below(mix.skus.len() as u64) as usize].clone();
        if lines.iter().all(|(s, _)| s != &sku) {
            lines.push((sku, 1 + rng.below(3) as u32));
        }
    }
    lines
}

pub struct Burst {
    /// Orders that could not be placed, and why.
    pub failures: Vec<String>,
    pub posted_in: Duration,
    pub new_customers: usize,
}

/// Places `n` orders with `concurrency` clients, counting them in `placed` as they are
/// accepted. Every `new_customer_every`-th order (if > 0) is for a customer created just
/// before it, which exercises the replicas' lag and the customer service.
pub async fn burst(
    a: &Actor,
    mix: &Mix,
    n: usize,
    concurrency: usize,
    new_customer_every: usize,
    placed: Arc<AtomicUsize>,
    seed: u64,
) -> Burst {
    let spec = BurstSpec {
        n,
        concurrency,
        new_customer_every,
        per_second: None,
        seed,
    };
    burst_with(a, mix, &spec, placed).await
}

/// How a burst places its orders.
#[derive(Debug, Clone, Copy)]
pub struct BurstSpec {
    /// Orders placed.
    pub n: usize,
    /// Clients placing them at once.
    pub concurrency: usize,
    /// Every `new_customer_every`-th order (if > 0) is for a customer created just before it.
    pub new_customer_every: usize,
    /// At most this many orders offered per second (the `i`-th no earlier than `i / rate`
    /// seconds after the first), for a system slower than its clients; `None`: as fast as
    /// the clients go.
    pub per_second: Option<f64>,
    /// The seed of the orders' customers and lines.
    pub seed: u64,
}

/// A burst as `spec` says, counting the orders in `placed` as they are accepted.
pub async fn burst_with(a: &Actor, mix: &Mix, spec: &BurstSpec, placed: Arc<AtomicUsize>) -> Burst {
    let &BurstSpec {
        n,
        concurrency,
        new_customer_every,
        per_second,
        seed,
    } = spec;
    let started = Instant::now();
    let schedule = tokio::time::Instant::now();
    let mut rng = Rng::new(seed);
    type Plan = (Option<Uuid>, Vec<(String, u32)>, bool);
    let plans: Vec<Plan> = (0..n)
        .map(|i| {
            let new = new_customer_every > 0 && i % new_customer_every == new_customer_every - 1;
            let customer = mix.customers[rng.below(mix.customers.len() as u64) as usize];
            (Some(customer), lines(&mut rng, mix), new)
        })
        .collect();
    let new_customers = Arc::new(AtomicUsize::new(0));
    let results: Vec<Result<_, String>> = futures::stream::iter(plans.into_iter().enumerate())
        .map(|(i, (customer, items, new))| {
            let a = a.clone();
            let placed = placed.clone();
            let new_customers = new_customers.clone();
            async move {
                if let Some(rate) = per_second {
                    // The arrival schedule of the workload, not a wait for a condition.
                    tokio::time::sleep_until(schedule + Duration::from_secs_f64(i as f64 / rate))
                        .await;
                }
                let customer = if new {
                    match new_customer(&a, money("200.00")).await {
                        Some(c) => {
                            new_customers.fetch_add(1, Ordering::Relaxed);
                            c
                        }
                        None => customer.unwrap(),
                    }
                } else {
                    customer.unwrap()
                };
                let result = a.try_order(customer, &items).await;
                placed.fetch_add(1, Ordering::Relaxed);
                result
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    for f in &failures {
        eprintln!("e2e: {f}");
    }
    Burst {
        failures,
        posted_in: started.elapsed(),
        new_customers: new_customers.load(Ordering::Relaxed),
    }
}

/// Creates a customer, retrying while the customer service is down. `None` if a retry was
/// answered 409 `email_taken`: an earlier attempt was committed but its answer lost (the
/// service was killed), so its id is unknown; that customer has no orders.
async fn new_customer(a: &Actor, credit_limit: Decimal) -> Option<Uuid> {
    let email = format!("e2e-{}@example.com", Uuid::new_v4().simple());
    let result = retrying(
        "POST /customers",
        Duration::from_secs(60),
        |_| false,
        || {
            a.api
                .create_customer("E2E burst customer", &email, credit_limit)
        },
    )
    .await;
    match result {
        Ok((c, _)) => {
            a.ledger.customer(c.id, credit_limit);
            Some(c.id)
        }
        Err(e) if e.is(409, "email_taken") => {
            eprintln!("e2e: customer {email} was created but its answer was lost; not used");
            None
        }
        Err(e) => panic!("POST /customers: {e}"),
    }
}

/// p-th percentile (0..=100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
