//! The invariant checker (SPEC §5). It reads only the public HTTP APIs, and knows only what the
//! scenario did through them: the customers it created (credit limit, deposits), the SKUs
//! (initial stock, restocks) and the orders it placed. It polls until every check passes (twice
//! in a row, so that a passing moment in the middle of late work does not count) or a deadline
//! passes, and then reports every violation with the ids involved.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::client::{Account, Api, Notification, Order, Product};

#[derive(Debug, Clone, Default)]
pub struct CustomerBook {
    pub credit_limit: Decimal,
    pub deposits: Decimal,
}

#[derive(Debug, Clone, Default)]
pub struct SkuBook {
    pub initial: i64,
    pub restocked: i64,
}

/// What the scenario did through the public APIs.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<LedgerInner>,
}

#[derive(Debug, Default, Clone)]
pub struct LedgerInner {
    pub customers: BTreeMap<Uuid, CustomerBook>,
    pub skus: BTreeMap<String, SkuBook>,
    /// order id → customer id
    pub orders: BTreeMap<Uuid, Uuid>,
}

impl Ledger {
    pub fn customer(&self, id: Uuid, credit_limit: Decimal) {
        self.inner.lock().unwrap().customers.insert(
            id,
            CustomerBook {
                credit_limit,
                deposits: Decimal::ZERO,
            },
        );
    }

    pub fn deposit(&self, id: Uuid, amount: Decimal) {
        self.inner
            .lock()
            .unwrap()
            .customers
            .get_mut(&id)
            .expect("a deposit for a customer of this test")
            .deposits += amount;
    }

    pub fn sku(&self, sku: &str, initial: i64) {
        self.inner.lock().unwrap().skus.insert(
            sku.to_owned(),
            SkuBook {
                initial,
                restocked: 0,
            },
        );
    }

    pub fn restock(&self, sku: &str, quantity: i64) {
        self.inner
            .lock()
            .unwrap()
            .skus
            .get_mut(sku)
            .expect("a restock of a SKU of this test")
            .restocked += quantity;
    }

    pub fn order(&self, id: Uuid, customer_id: Uuid) {
        self.inner.lock().unwrap().orders.insert(id, customer_id);
    }

    pub fn snapshot(&self) -> LedgerInner {
        self.inner.lock().unwrap().clone()
    }
}

/// Everything the checker read, for the scenario's own assertions.
#[derive(Debug, Default, Clone)]
pub struct World {
    pub orders: BTreeMap<Uuid, Order>,
    pub products: BTreeMap<String, Product>,
    pub accounts: BTreeMap<Uuid, Account>,
    pub notifications: BTreeMap<Uuid, Vec<Notification>>,
}

impl World {
    pub fn count(&self, status: &str) -> usize {
        self.orders.values().filter(|o| o.status == status).count()
    }

    pub fn payment(&self, order: &Order) -> Option<&crate::client::Payment> {
        self.accounts
            .get(&order.customer_id)
            .and_then(|a| a.payments.iter().find(|p| p.order_id == order.id))
    }
}

/// Reads the world through the public APIs and lists every violation of SPEC §5.
pub async fn check_once(
    api: &Api,
    ledger: &LedgerInner,
    deadline_passed: bool,
) -> (World, Vec<String>) {
    let mut v: Vec<String> = Vec::new();
    let mut world = World::default();

    // Orders: every order the scenario placed, and nothing else, per customer.
    for &customer in ledger.customers.keys() {
        match api.orders_of(customer).await {
            Ok(list) => {
                for o in list {
                    if ledger.orders.get(&o.id) != Some(&customer) {
                        v.push(format!(
                            "order {} of customer {customer} was not placed by this test (a duplicate?), status {}",
                            o.id, o.status
                        ));
                    }
                    world.orders.insert(o.id, o);
                }
            }
            Err(e) => v.push(format!("GET /orders?customer_id={customer}: {e}")),
        }
    }
    for (&id, &customer) in &ledger.orders {
        if let std::collections::btree_map::Entry::Vacant(slot) = world.orders.entry(id) {
            match api.order(id).await {
                Ok(o) => {
                    v.push(format!(
                        "order {id} is missing from GET /orders?customer_id={customer}"
                    ));
                    slot.insert(o);
                }
                Err(e) => v.push(format!(
                    "order {id} (customer {customer}): GET /orders/{id}: {e}"
                )),
            }
        }
    }

    // 1. Every order is CONFIRMED or CANCELLED.
    for o in world.orders.values() {
        if !o.is_terminal() {
            let age = (chrono::Utc::now() - o.created_at).num_milliseconds() as f64 / 1000.0;
            let what = if deadline_passed {
                "still"
            } else {
                "not yet terminal:"
            };
            v.push(format!(
                "§5.1 order {} (customer {}) {what} {} after {age:.1}s",
                o.id, o.customer_id, o.status
            ));
        }
    }
    let confirmed: Vec<&Order> = world
        .orders
        .values()
        .filter(|o| o.status == "CONFIRMED")
        .collect();

    // 2, 3. Stock conserved, nothing left reserved, sold = confirmed quantities.
    for (sku, book) in &ledger.skus {
        let p = match api.product(sku).await {
            Ok(p) => p,
            Err(e) => {
                v.push(format!("GET /stock/{sku}: {e}"));
                continue;
            }
        };
        let expected_total = book.initial + book.restocked;
        let total = p.available + p.reserved + p.sold;
        if total != expected_total {
            v.push(format!(
                "§5.2 SKU {sku}: initial {} + restocked {} = {expected_total} but available {} + reserved {} + sold {} = {total}",
                book.initial, book.restocked, p.available, p.reserved, p.sold
            ));
        }
        if p.reserved != 0 {
            let holders: Vec<String> = world
                .orders
                .values()
                .filter(|o| !o.is_terminal() && o.items.iter().any(|l| &l.sku == sku))
                .map(|o| o.id.to_string())
                .collect();
            v.push(format!(
                "§5.2 SKU {sku}: reserved = {} at quiescence (pending orders with it: {holders:?})",
                p.reserved
            ));
        }
        if p.available < 0 {
            v.push(format!("§5.2 SKU {sku}: available = {} < 0", p.available));
        }
        let sold: i64 = confirmed
            .iter()
            .flat_map(|o| o.items.iter())
            .filter(|l| &l.sku == sku)
            .map(|l| i64::from(l.quantity))
            .sum();
        if p.sold != sold {
            v.push(format!(
                "§5.3 SKU {sku}: sold = {} but the CONFIRMED orders hold {sold}",
                p.sold
            ));
        }
        world.products.insert(sku.clone(), p);
    }

    // 4, 5. Balances and payments.
    for (&customer, book) in &ledger.customers {
        let account = match api.account(customer).await {
            Ok(a) => a,
            Err(e) => {
                v.push(format!("GET /billing/{customer}: {e}"));
                continue;
            }
        };
        let charged: Decimal = confirmed
            .iter()
            .filter(|o| o.customer_id == customer)
            .map(|o| o.total)
            .sum();
        let expected = book.credit_limit + book.deposits - charged;
        if account.balance != expected {
            let charged_orders: Vec<String> = account
                .payments
                .iter()
                .filter(|p| p.status == "CHARGED")
                .map(|p| {
                    let status = world
                        .orders
                        .get(&p.order_id)
                        .map_or("?", |o| o.status.as_str());
                    format!("{} {} ({status})", p.order_id, p.amount)
                })
                .collect();
            v.push(format!(
                "§5.4 customer {customer}: balance {} ≠ credit_limit {} + deposits {} − confirmed {charged} = {expected}; CHARGED payments: {charged_orders:?}",
                account.balance, book.credit_limit, book.deposits
            ));
        }
        if account.balance < Decimal::ZERO {
            v.push(format!(
                "§5.4 customer {customer}: balance {} is negative",
                account.balance
            ));
        }
        let mut per_order: BTreeMap<Uuid, Vec<&crate::client::Payment>> = BTreeMap::new();
        for p in &account.payments {
            per_order.entry(p.order_id).or_default().push(p);
        }
        for (order_id, payments) in &per_order {
            if payments.len() > 1 {
                v.push(format!(
                    "§5.5 order {order_id}: {} payment entries {:?}",
                    payments.len(),
                    payments.iter().map(|p| &p.status).collect::<Vec<_>>()
                ));
            }
            match world.orders.get(order_id) {
                None => v.push(format!(
                    "§5.5 customer {customer}: payment for order {order_id}, which this test did not place"
                )),
                Some(o) if o.customer_id != customer => v.push(format!(
                    "§5.5 order {order_id} of customer {} was paid from customer {customer}'s account",
                    o.customer_id
                )),
                Some(_) => {}
            }
        }
        for o in world.orders.values().filter(|o| o.customer_id == customer) {
            let payments = per_order.get(&o.id).cloned().unwrap_or_default();
            let status = payments.first().map(|p| p.status.as_str());
            match (o.status.as_str(), status) {
                ("CONFIRMED", Some("CHARGED")) if payments[0].amount != o.total => {
                    v.push(format!(
                        "§5.5 order {}: charged {} but its total is {}",
                        o.id, payments[0].amount, o.total
                    ));
                }
                ("CONFIRMED", Some("CHARGED")) => {}
                ("CONFIRMED", other) => v.push(format!(
                    "§5.5 order {} is CONFIRMED but its payment is {other:?} (expected CHARGED)",
                    o.id
                )),
                ("CANCELLED", None | Some("FAILED")) => {}
                ("CANCELLED", Some("REFUNDED")) if payments[0].amount != o.total => {
                    v.push(format!(
                        "§5.5 order {}: refunded {} but its total is {}",
                        o.id, payments[0].amount, o.total
                    ));
                }
                ("CANCELLED", Some("REFUNDED")) => {}
                ("CANCELLED", other) => v.push(format!(
                    "§5.5 order {} is CANCELLED ({}) but its payment is {other:?} (expected REFUNDED, FAILED or none)",
                    o.id,
                    o.reason.as_deref().unwrap_or("no reason")
                )),
                _ => {}
            }
        }
        world.accounts.insert(customer, account);
    }

    // 6. Notifications: exactly one order_confirmed or one order_cancelled per order; one per
    // (order, kind) for every kind (§4); a payment_refunded exactly for refunded payments; one
    // welcome per customer.
    for &customer in ledger.customers.keys() {
        let list = match api.notifications(customer).await {
            Ok(l) => l,
            Err(e) => {
                v.push(format!("GET /notifications?customer_id={customer}: {e}"));
                continue;
            }
        };
        if list.len() >= 500 {
            v.push(format!(
                "customer {customer} has ≥ 500 notifications: more than one page, cannot check"
            ));
        }
        let welcomes = list.iter().filter(|n| n.kind == "welcome").count();
        if welcomes != 1 {
            v.push(format!(
                "§4 customer {customer}: {welcomes} welcome notifications (expected 1)"
            ));
        }
        let mut per: BTreeMap<(Uuid, &str), usize> = BTreeMap::new();
        for n in &list {
            if let Some(order) = n.order_id {
                *per.entry((order, n.kind.as_str())).or_default() += 1;
                if !ledger.orders.contains_key(&order) {
                    v.push(format!(
                        "notification {} ({}) for order {order}, which this test did not place",
                        n.id, n.kind
                    ));
                }
            }
        }
        for ((order, kind), n) in &per {
            if *n > 1 {
                v.push(format!("§4 order {order}: {n} `{kind}` notifications"));
            }
        }
        for o in world.orders.values().filter(|o| o.customer_id == customer) {
            let confirmed = per.get(&(o.id, "order_confirmed")).copied().unwrap_or(0);
            let cancelled = per.get(&(o.id, "order_cancelled")).copied().unwrap_or(0);
            let ok = match o.status.as_str() {
                "CONFIRMED" => confirmed == 1 && cancelled == 0,
                "CANCELLED" => confirmed == 0 && cancelled == 1,
                _ => true,
            };
            if !ok {
                v.push(format!(
                    "§5.6 order {} is {}: {confirmed} order_confirmed and {cancelled} order_cancelled notifications",
                    o.id, o.status
                ));
            }
            let refunded = world
                .accounts
                .get(&customer)
                .and_then(|a| a.payments.iter().find(|p| p.order_id == o.id))
                .is_some_and(|p| p.status == "REFUNDED");
            let refund_notes = per.get(&(o.id, "payment_refunded")).copied().unwrap_or(0);
            if refunded != (refund_notes == 1) {
                v.push(format!(
                    "§4 order {}: payment refunded = {refunded} but {refund_notes} payment_refunded notifications",
                    o.id
                ));
            }
        }
        world.notifications.insert(customer, list);
    }
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

/// All public state of what the scenario created, as JSON (for "nothing changed" comparisons).
pub async fn public_state(api: &Api, ledger: &LedgerInner) -> BTreeMap<String, Value> {
    let mut state = BTreeMap::new();
    for &c in ledger.customers.keys() {
        let orders = api.orders_of(c).await.expect("GET /orders");
        state.insert(
            format!("orders of {c}"),
            serde_json::to_value(orders).unwrap(),
        );
        let account = api.account_json(c).await.expect("GET /billing");
        state.insert(format!("billing {c}"), account);
        let notes = api.notifications(c).await.expect("GET /notifications");
        state.insert(
            format!("notifications of {c}"),
            serde_json::to_value(notes).unwrap(),
        );
    }
    for sku in ledger.skus.keys() {
        let p = api.product(sku).await.expect("GET /stock");
        state.insert(format!("stock {sku}"), serde_json::to_value(p).unwrap());
    }
    state.insert(
        "stock-alerts".into(),
        api.stock_alerts().await.expect("GET /stock-alerts"),
    );
    state
}

/// The keys whose values differ, each with both values.
pub fn diff(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            format!(
                "{k}:\n    before: {}\n    after:  {}",
                before.get(k).map_or("-".into(), |v| v.to_string()),
                after.get(k).map_or("-".into(), |v| v.to_string())
            )
        })
        .collect()
}
