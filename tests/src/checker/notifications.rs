//! The notifications: exactly one order_confirmed or one order_cancelled per order (SPEC
//! §5.6); one per (order, kind) for every kind (§4); a payment_refunded exactly for refunded
//! payments; one welcome per customer.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::client::{Api, Notification};

use super::{LedgerInner, World};

/// How many notifications of each kind each order has: (order id, kind) → count.
type PerOrder<'a> = BTreeMap<(Uuid, &'a str), usize>;

/// Reads every customer's notifications into `world.notifications` and checks them. Reads
/// `world.accounts`, so it runs after the money checks.
pub(super) async fn check(api: &Api, ledger: &LedgerInner, world: &mut World) -> Vec<String> {
    let mut v = Vec::new();
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
        let per = per_order(&list, ledger, &mut v);
        v.extend(per_status(customer, &per, world));
        world.notifications.insert(customer, list);
    }
    v
}

/// Counts the notifications per (order, kind), with violations for an order the scenario did
/// not place and for more than one of a kind.
fn per_order<'a>(
    list: &'a [Notification],
    ledger: &LedgerInner,
    v: &mut Vec<String>,
) -> PerOrder<'a> {
    let mut per: PerOrder = BTreeMap::new();
    for n in list {
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
    per
}

/// §5.6 and the refunds: each of the customer's orders has the notifications its status and
/// its payment call for.
fn per_status(customer: Uuid, per: &PerOrder, world: &World) -> Vec<String> {
    let mut v = Vec::new();
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
    v
}
