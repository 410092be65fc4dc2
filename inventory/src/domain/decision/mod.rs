//! The reservation logic, as pure functions: given an order's reservation record (if any) and
//! the products involved, what changes and which events go out. Both store adapters load that
//! state (locked, or in a snapshot transaction), call [`decide`], and write the [`Decision`]
//! and its events atomically.
//!
//! - [`reserve`]: a `Reserve` command (all lines or none);
//! - [`settle`]: a `Confirm` or `Cancel` on a reservation (sell or release);
//! - `tests`: the cases, as given (stock and earlier commands) / when (a command) / then (the
//!   decision expected).

mod reserve;
mod settle;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use shared_events::contracts::events::{StockLine, StockRejected, StockReserved};
use shared_events::EventPayload;
use uuid::Uuid;

use self::reserve::reserve;
use self::settle::{settle, Settle};
use super::product::{Product, StockError};
use super::reservation::{Line, Reservation, ReservationRequest, ReservationStatus};
use super::Sku;

/// What is asked of an order's reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Reserve every line or nothing (`order.created`, `POST /stock/reserve`).
    Reserve(ReservationRequest),
    /// The order is confirmed: its reservation becomes a sale (`order.confirmed`).
    Confirm(Uuid),
    /// The order is cancelled: give its reservation back (`order.cancelled`).
    Cancel(Uuid),
}

impl Command {
    pub fn order_id(&self) -> Uuid {
        match self {
            Command::Reserve(r) => r.order_id,
            Command::Confirm(id) | Command::Cancel(id) => *id,
        }
    }
}

/// Whether a repeated `Reserve` for an order already answered announces that answer again.
/// The saga does (the asker may be waiting for it); a repeated HTTP request does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeats {
    Announce,
    Silent,
}

/// A product whose numbers change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductChange {
    pub before: Product,
    pub after: Product,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The order's reservation after the command (`None`: there is none, and none is made).
    pub reservation: Option<Reservation>,
    /// Whether `reservation` is new or changed and must be written.
    pub reservation_changed: bool,
    /// Products to update, in SKU order.
    pub products: Vec<ProductChange>,
    /// The events to enqueue with the change, in order.
    pub events: Vec<EventPayload>,
    /// What happened, for the log.
    pub note: &'static str,
}

impl Decision {
    fn unchanged(existing: Option<&Reservation>, note: &'static str) -> Decision {
        Decision {
            reservation: existing.cloned(),
            reservation_changed: false,
            products: Vec::new(),
            events: Vec::new(),
            note,
        }
    }
}

/// The products [`decide`] needs for `command`, sorted (the order to lock them in).
pub fn skus_to_load(command: &Command, existing: Option<&Reservation>) -> Vec<Sku> {
    let lines = match (command, existing) {
        (Command::Reserve(request), None) => &request.lines,
        (Command::Confirm(_) | Command::Cancel(_), Some(r))
            if r.status == ReservationStatus::Reserved =>
        {
            &r.lines
        }
        _ => return Vec::new(),
    };
    let mut skus: Vec<Sku> = lines.iter().map(|l| l.sku.clone()).collect();
    skus.sort();
    skus.dedup();
    skus
}

/// Applies `command` to the order's reservation `existing` and the `products` of
/// [`skus_to_load`] (a SKU missing from `products` is not known to the store).
pub fn decide(
    command: &Command,
    existing: Option<&Reservation>,
    products: &BTreeMap<Sku, Product>,
    repeats: Repeats,
) -> Result<Decision, StockError> {
    match command {
        Command::Reserve(request) => Ok(reserve(request, existing, products, repeats)),
        Command::Confirm(order_id) => settle(*order_id, existing, products, Settle::Sell),
        Command::Cancel(order_id) => match existing {
            None => Ok(Decision {
                reservation: Some(Reservation {
                    order_id: *order_id,
                    status: ReservationStatus::Tombstone,
                    lines: Vec::new(),
                    rejection: None,
                }),
                reservation_changed: true,
                products: Vec::new(),
                events: Vec::new(),
                note: "cancel before reservation: tombstone left",
            }),
            Some(_) => settle(*order_id, existing, products, Settle::Release),
        },
    }
}

/// The answer to a reserve, as an event: `stock.reserved` or `stock.rejected`.
fn announcement(reservation: &Reservation) -> Option<EventPayload> {
    match (reservation.status, &reservation.rejection) {
        (ReservationStatus::Reserved, _) => Some(EventPayload::StockReserved(StockReserved {
            order_id: reservation.order_id,
            items: stock_lines(&reservation.lines),
        })),
        (ReservationStatus::Rejected, Some(rejection)) => {
            Some(EventPayload::StockRejected(StockRejected {
                order_id: reservation.order_id,
                reason: rejection.reason.as_str().to_owned(),
                short_skus: rejection.short_skus.clone(),
            }))
        }
        _ => None,
    }
}

pub fn stock_lines(lines: &[Line]) -> Vec<StockLine> {
    lines
        .iter()
        .map(|l| StockLine {
            sku: l.sku.to_string(),
            quantity: l.quantity,
        })
        .collect()
}
