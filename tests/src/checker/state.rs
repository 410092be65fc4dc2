//! The public state of what a scenario created, as JSON, and the difference between two such
//! snapshots: for the scenarios that assert that something changed nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::client::Api;

use super::LedgerInner;

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
