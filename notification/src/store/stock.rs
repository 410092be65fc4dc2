//! Stock for the operations team: low-stock alerts (a capped list, newest first) and the
//! latest `stock.updated` numbers per SKU.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use redis::aio::ConnectionManager;
use saga_contracts::events::{LowStock, StockUpdated};
use serde::{Deserialize, Serialize};

use super::{cmd, hashes, Command, Keys, StoreResult};

/// How many low-stock alerts are kept; older ones are trimmed.
pub const MAX_ALERTS: usize = 1000;

/// One `low.stock` event, as the operations team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockAlert {
    /// The product that ran low.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// How many were available to sell when it ran low.
    pub available: u64,
    /// The level at or below which the product counts as low.
    pub low_stock_threshold: u64,
    /// When it ran low (the event's `occurred_at`).
    pub at: DateTime<Utc>,
}

/// A SKU's numbers from its latest `stock.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StockNumbers {
    /// The product.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its price, as SPEC's money: digits, a point and two decimals.
    #[schema(pattern = r"^[0-9]+\.[0-9]{2}$", example = "12.50")]
    pub price: String,
    /// Units that can be reserved.
    pub available: u64,
    /// Units held by orders not yet decided.
    pub reserved: u64,
    /// Units sold.
    pub sold: u64,
    /// The level at or below which the product counts as low.
    pub low_stock_threshold: u64,
    /// When these numbers were true (the event's `occurred_at`).
    pub at: DateTime<Utc>,
}

impl StockNumbers {
    /// The numbers a hash holds, if it holds all of them.
    fn from_hash(mut h: HashMap<String, String>) -> Option<StockNumbers> {
        let mut take = |k: &str| h.remove(k);
        Some(StockNumbers {
            sku: take("sku")?,
            name: take("name")?,
            price: take("price")?,
            available: take("available")?.parse().ok()?,
            reserved: take("reserved")?.parse().ok()?,
            sold: take("sold")?.parse().ok()?,
            low_stock_threshold: take("low_stock_threshold")?.parse().ok()?,
            at: DateTime::parse_from_rfc3339(&take("at")?).ok()?.to_utc(),
        })
    }
}

/// Prepends the alert to the list and trims it to [`MAX_ALERTS`].
pub fn alert_commands(keys: &Keys, e: &LowStock, at: DateTime<Utc>) -> Vec<Command> {
    let alert = StockAlert {
        sku: e.sku.clone(),
        name: e.name.clone(),
        available: e.available,
        low_stock_threshold: e.low_stock_threshold,
        at,
    };
    let json = serde_json::to_string(&alert).expect("an alert serializes");
    vec![
        cmd(["LPUSH", &keys.alerts(), &json]),
        cmd(["LTRIM", &keys.alerts(), "0", &(MAX_ALERTS - 1).to_string()]),
    ]
}

/// Replaces the SKU's numbers with those of `e`, which occurred `at`.
pub fn stock_commands(keys: &Keys, e: &StockUpdated, at: DateTime<Utc>) -> Vec<Command> {
    vec![
        cmd([
            "HSET",
            &keys.stock(&e.sku),
            "sku",
            &e.sku,
            "name",
            &e.name,
            "price",
            &e.price.to_string(),
            "available",
            &e.available.to_string(),
            "reserved",
            &e.reserved.to_string(),
            "sold",
            &e.sold.to_string(),
            "low_stock_threshold",
            &e.low_stock_threshold.to_string(),
            "at",
            &at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "at_us",
            &at.timestamp_micros().to_string(),
        ]),
        cmd(["SADD", &keys.stock_skus(), &e.sku]),
    ]
}

/// When the numbers kept for `sku` occurred (µs since the epoch), if any are kept.
#[tracing::instrument(level = "debug", skip_all, fields(sku))]
pub async fn latest_stock_at_us(
    conn: &mut ConnectionManager,
    keys: &Keys,
    sku: &str,
) -> StoreResult<Option<i64>> {
    let at: Option<String> = redis::cmd("HGET")
        .arg(keys.stock(sku))
        .arg("at_us")
        .query_async(conn)
        .await?;
    Ok(at.and_then(|s| s.parse().ok()))
}

/// All kept alerts, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_alerts(
    conn: &mut ConnectionManager,
    keys: &Keys,
) -> StoreResult<Vec<StockAlert>> {
    let raw: Vec<String> = redis::cmd("LRANGE")
        .arg(keys.alerts())
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await?;
    Ok(raw
        .iter()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect())
}

/// The latest numbers of every SKU seen, ordered by SKU.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_stock(
    conn: &mut ConnectionManager,
    keys: &Keys,
) -> StoreResult<Vec<StockNumbers>> {
    let mut skus: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.stock_skus())
        .query_async(conn)
        .await?;
    skus.sort();
    let found = hashes(conn, skus.iter().map(|sku| keys.stock(sku))).await?;
    Ok(found
        .into_iter()
        .filter_map(StockNumbers::from_hash)
        .collect())
}
