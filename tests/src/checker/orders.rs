//! The orders: reading every order the scenario placed, and nothing else, per customer; then
//! SPEC §5.1, every order CONFIRMED or CANCELLED.

use std::collections::btree_map::Entry;

use crate::client::Api;

use super::{LedgerInner, World};

/// Reads every order of the scenario's customers into `world`: violations for an order the
/// scenario did not place, one missing from its customer's list, or a call that failed.
pub(super) async fn read(api: &Api, ledger: &LedgerInner, world: &mut World) -> Vec<String> {
    let mut v = Vec::new();
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
        if let Entry::Vacant(slot) = world.orders.entry(id) {
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
    v
}

/// §5.1: every order is CONFIRMED or CANCELLED ("still" pending once the deadline passed).
pub(super) fn terminal(world: &World, deadline_passed: bool) -> Vec<String> {
    let mut v = Vec::new();
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
    v
}
