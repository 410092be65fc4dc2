//! The money: SPEC §5.4, every balance equal to credit limit + deposits − the CONFIRMED
//! orders' totals and never negative, and §5.5, at most one payment per order, from its own
//! customer, of its total, in the state its order's status requires.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::client::{Account, Api, Payment};

use super::world::confirmed;
use super::{CustomerBook, LedgerInner, World};

/// Reads every customer's account into `world.accounts` and checks §5.4 and §5.5 on each.
pub(super) async fn check(api: &Api, ledger: &LedgerInner, world: &mut World) -> Vec<String> {
    let mut v = Vec::new();
    for (&customer, book) in &ledger.customers {
        let account = match api.account(customer).await {
            Ok(a) => a,
            Err(e) => {
                v.push(format!("GET /billing/{customer}: {e}"));
                continue;
            }
        };
        v.extend(balance(customer, book, &account, world));
        v.extend(payments(customer, &account, world));
        world.accounts.insert(customer, account);
    }
    v
}

/// §5.4: the balance is credit limit + deposits − the CONFIRMED orders' totals, and not negative.
fn balance(customer: Uuid, book: &CustomerBook, account: &Account, world: &World) -> Vec<String> {
    let mut v = Vec::new();
    let charged: Decimal = confirmed(world)
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
    v
}

/// §5.5: one payment per order, for an order of this customer, matching the order's status.
fn payments(customer: Uuid, account: &Account, world: &World) -> Vec<String> {
    let mut v = Vec::new();
    let mut per_order: BTreeMap<Uuid, Vec<&Payment>> = BTreeMap::new();
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
    v
}
