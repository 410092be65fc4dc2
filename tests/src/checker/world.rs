//! What the public APIs show: everything one pass of the checker read, kept for the scenario's
//! own assertions after the invariants hold.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::client::{Account, Notification, Order, Payment, Product};

/// Everything the checker read, for the scenario's own assertions.
#[derive(Debug, Default, Clone)]
pub struct World {
    /// Every order of the scenario's customers, by id (`GET /orders`).
    pub orders: BTreeMap<Uuid, Order>,
    /// Every SKU of the scenario, by SKU (`GET /stock/{sku}`).
    pub products: BTreeMap<String, Product>,
    /// Every customer's account with its payments, by customer id (`GET /billing/{id}`).
    pub accounts: BTreeMap<Uuid, Account>,
    /// Every customer's notifications, newest first, by customer id (`GET /notifications`).
    pub notifications: BTreeMap<Uuid, Vec<Notification>>,
}

impl World {
    pub fn count(&self, status: &str) -> usize {
        self.orders.values().filter(|o| o.status == status).count()
    }

    pub fn payment(&self, order: &Order) -> Option<&Payment> {
        self.accounts
            .get(&order.customer_id)
            .and_then(|a| a.payments.iter().find(|p| p.order_id == order.id))
    }
}

/// The orders that are CONFIRMED: what was sold and charged.
pub(super) fn confirmed(world: &World) -> Vec<&Order> {
    world
        .orders
        .values()
        .filter(|o| o.status == "CONFIRMED")
        .collect()
}
