//! Stock for the operations team: low-stock alerts (a capped list, newest first) and the
//! latest `stock.updated` numbers per SKU.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use shared_events::events::{LowStock, StockUpdated};

use super::{cmd, Command};
use crate::keys::Keys;

/// How many low-stock alerts are kept; older ones are trimmed.
pub const MAX_ALERTS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockAlert {
    pub sku: String,
    pub name: String,
    pub available: u64,
    pub low_stock_threshold: u64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockNumbers {
    pub sku: String,
    pub name: String,
    pub price: String,
    pub available: u64,
    pub reserved: u64,
    pub sold: u64,
    pub low_stock_threshold: u64,
    pub at: DateTime<Utc>,
}

impl StockNumbers {
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
pub async fn latest_stock_at_us(
    conn: &mut ConnectionManager,
    keys: &Keys,
    sku: &str,
) -> redis::RedisResult<Option<i64>> {
    let at: Option<String> = redis::cmd("HGET")
        .arg(keys.stock(sku))
        .arg("at_us")
        .query_async(conn)
        .await?;
    Ok(at.and_then(|s| s.parse().ok()))
}

/// All kept alerts, newest first.
pub async fn list_alerts(
    conn: &mut ConnectionManager,
    keys: &Keys,
) -> redis::RedisResult<Vec<StockAlert>> {
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
pub async fn list_stock(
    conn: &mut ConnectionManager,
    keys: &Keys,
) -> redis::RedisResult<Vec<StockNumbers>> {
    let mut skus: Vec<String> = redis::cmd("SMEMBERS")
        .arg(keys.stock_skus())
        .query_async(conn)
        .await?;
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    skus.sort();
    let mut pipe = redis::pipe();
    for sku in &skus {
        pipe.cmd("HGETALL").arg(keys.stock(sku));
    }
    let hashes: Vec<HashMap<String, String>> = pipe.query_async(conn).await?;
    Ok(hashes
        .into_iter()
        .filter_map(StockNumbers::from_hash)
        .collect())
}
