//! What a scenario does through the public APIs, recorded in the ledger for the checker.

use std::future::Future;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::checker::Ledger;
use crate::client::{Api, ApiError, Order};

/// Money from cents.
pub fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// Money from its decimal text, e.g. `"12.50"`.
pub fn money(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// A SKU name unique to this run.
pub fn sku(tag: &str) -> String {
    format!("E2E-{tag}-{}", &Uuid::new_v4().simple().to_string()[..10])
}

/// Retries `call` while it fails transiently (service down or restarting, 5xx) or `retry_on`
/// says so, until `within` passes.
pub async fn retrying<T, F, Fut>(
    what: &str,
    within: Duration,
    retry_on: impl Fn(&ApiError) -> bool,
    mut call: F,
) -> Result<(T, u32), ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let deadline = Instant::now() + within;
    let mut attempts = 0;
    let mut pause = Duration::from_millis(20);
    loop {
        attempts += 1;
        match call().await {
            Ok(v) => return Ok((v, attempts)),
            Err(e) if (e.is_transient() || retry_on(&e)) && Instant::now() < deadline => {
                if attempts % 50 == 0 {
                    eprintln!("e2e: {what}: still retrying after {attempts} attempts: {e}");
                }
            }
            Err(e) => return Err(e),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// A handle for creating things through the APIs and recording them; cheap to clone into tasks.
#[derive(Clone)]
pub struct Actor {
    pub api: Api,
    pub ledger: std::sync::Arc<Ledger>,
}

impl Actor {
    pub async fn customer(&self, credit_limit: Decimal) -> Uuid {
        let tag = Uuid::new_v4().simple().to_string();
        let email = format!("e2e-{tag}@example.com");
        let (c, _) = retrying(
            "POST /customers",
            Duration::from_secs(60),
            |_| false,
            || {
                self.api
                    .create_customer("E2E customer", &email, credit_limit)
            },
        )
        .await
        .unwrap_or_else(|e| panic!("POST /customers: {e}"));
        assert_eq!(c.credit_limit, credit_limit);
        self.ledger.customer(c.id, credit_limit);
        c.id
    }

    pub async fn product(&self, tag: &str, price: Decimal, quantity: u64) -> String {
        let sku = sku(tag);
        let (p, _) = retrying(
            "POST /stock",
            Duration::from_secs(60),
            |_| false,
            || self.api.create_product(&sku, price, quantity, 0),
        )
        .await
        .unwrap_or_else(|e| panic!("POST /stock: {e}"));
        assert_eq!((p.available, p.reserved, p.sold), (quantity as i64, 0, 0));
        self.ledger.sku(&sku, quantity as i64);
        sku
    }

    pub async fn restock(&self, sku: &str, quantity: u64) {
        retrying(
            "POST /stock/{sku}/restock",
            Duration::from_secs(60),
            |_| false,
            || self.api.restock(sku, quantity),
        )
        .await
        .unwrap_or_else(|e| panic!("POST /stock/{sku}/restock: {e}"));
        self.ledger.restock(sku, quantity as i64);
    }

    /// Deposits, retrying while billing has no account for the customer yet (404: its replica
    /// of the customers lags).
    pub async fn deposit(&self, customer: Uuid, amount: Decimal) {
        retrying(
            "POST /billing",
            Duration::from_secs(60),
            |e| e.is(404, "account_not_found"),
            || self.api.deposit(customer, amount),
        )
        .await
        .unwrap_or_else(|e| panic!("POST /billing for {customer}: {e}"));
        self.ledger.deposit(customer, amount);
    }

    /// Places an order, retrying (with one `Idempotency-Key`) while the orders service does not
    /// know the customer or a SKU yet (its replicas lag), or does not answer. Returns the order
    /// and the number of attempts.
    pub async fn try_order(
        &self,
        customer: Uuid,
        items: &[(String, u32)],
    ) -> Result<(Order, u32), String> {
        let key = Uuid::new_v4().to_string();
        let started = Instant::now();
        let (order, attempts) = retrying(
            "POST /orders",
            Duration::from_secs(90),
            |e| e.is(422, "unknown_customer") || e.is(422, "unknown_sku"),
            || self.api.place_order(customer, items, Some(&key)),
        )
        .await
        .map_err(|e| {
            format!(
                "POST /orders for customer {customer} {items:?} failed for {:.1}s (until {}): {e}",
                started.elapsed().as_secs_f64(),
                chrono::Utc::now().to_rfc3339()
            )
        })?;
        assert_eq!(order.customer_id, customer);
        self.ledger.order(order.id, customer);
        Ok((order, attempts))
    }

    pub async fn order(&self, customer: Uuid, items: &[(String, u32)]) -> (Order, u32) {
        self.try_order(customer, items)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits until the order is terminal and returns it.
    pub async fn terminal(&self, id: Uuid, within: Duration) -> Order {
        let api = self.api.clone();
        saga_messaging::testing::wait_for(&format!("order {id} to be terminal"), within, || {
            let api = api.clone();
            async move { api.order(id).await.ok().filter(Order::is_terminal) }
        })
        .await
    }
}
