//! A `Confirm` or a `Cancel` on an order's reservation: sell or release what a `RESERVED`
//! reservation holds; anything else is final (or unknown here) and left as it is.

use std::collections::BTreeMap;

use saga_contracts::events::StockReleased;
use saga_contracts::{EventPayload, Sku};
use uuid::Uuid;

use super::outcome::{stock_lines, Decision, ProductChange};
use crate::domain::product::{change_events, Product, StockError};
use crate::domain::reservation::{Reservation, ReservationStatus};

/// What settling a reservation does with what it holds.
pub(super) enum Settle {
    /// The order is confirmed: reserved units become sold.
    Sell,
    /// The order is cancelled: reserved units become available again.
    Release,
}

/// Confirm or cancel: acts only on a `RESERVED` reservation; anything else is already final
/// (or, for a confirm, unknown here) and is left as it is.
pub(super) fn settle(
    order_id: Uuid,
    existing: Option<&Reservation>,
    products: &BTreeMap<Sku, Product>,
    how: Settle,
) -> Result<Decision, StockError> {
    let Some(reservation) = existing.filter(|r| r.status == ReservationStatus::Reserved) else {
        let note = match (&how, existing.map(|r| r.status)) {
            (Settle::Sell, None) => "confirm of an order never reserved here: ignored",
            (Settle::Sell, Some(ReservationStatus::Sold)) => "already sold",
            (Settle::Sell, Some(_)) => "confirm of an order not reserved: ignored",
            (Settle::Release, Some(ReservationStatus::Sold)) => "cancel of a sold order: ignored",
            (Settle::Release, _) => "nothing to release",
        };
        return Ok(Decision::unchanged(existing, note));
    };
    let mut changes = Vec::with_capacity(reservation.lines.len());
    let mut events = Vec::new();
    for line in &reservation.lines {
        let before = products
            .get(&line.sku)
            .ok_or_else(|| StockError::Inconsistent {
                sku: line.sku.to_string(),
                detail: format!("reserved by order {order_id} but not in the store"),
            })?;
        let quantity = u64::from(line.quantity);
        let after = match how {
            Settle::Sell => before.sell(quantity)?,
            Settle::Release => before.release(quantity)?,
        };
        events.extend(change_events(Some(before), &after));
        changes.push(ProductChange {
            before: before.clone(),
            after,
        });
    }
    let (status, note) = match how {
        Settle::Sell => (ReservationStatus::Sold, "reservation sold"),
        Settle::Release => {
            events.insert(
                0,
                EventPayload::StockReleased(StockReleased {
                    order_id,
                    items: stock_lines(&reservation.lines),
                }),
            );
            (ReservationStatus::Released, "reservation released")
        }
    };
    Ok(Decision {
        reservation: Some(Reservation {
            status,
            ..reservation.clone()
        }),
        reservation_changed: true,
        products: changes,
        events,
        note,
    })
}
