//! The reservation logic, as pure functions: given an order's reservation record (if any) and
//! the products involved, what changes and which events go out. Both store adapters load that
//! state (locked, or in a snapshot transaction), call [`decide`], and write the [`Decision`]
//! and its events atomically.
//!
//! Reservations are kept in two [`Book`]s: the saga's, one per order it has seen, and the
//! manual ones of `POST /stock/reserve`. A command reads and writes its own book's reservation
//! only, so the saga never adopts, sells or releases a manual reservation, and a manual command
//! never touches the saga's (SPEC §7). The one thing a manual command learns of the saga's book
//! is whether it has the order id ([`SagaRecord`]): then the id is the saga's alone.
//!
//! - [`outcome`]: what a command decides ([`Decision`]), and the events that announce it;
//! - [`reserve`]: a `Reserve` command (all lines or none);
//! - [`settle`]: a `Confirm` or `Cancel` on a reservation (sell or release);
//! - `tests`: the cases, as given (stock and earlier commands) / when (a command) / then (the
//!   decision expected).

mod outcome;
mod reserve;
mod settle;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use saga_contracts::Sku;
use uuid::Uuid;

pub use self::outcome::{stock_lines, Decision, ProductChange, Repeats};
use self::reserve::reserve;
use self::settle::{settle, Settle};
use super::product::{Product, StockError};
use super::reservation::{Reservation, ReservationRequest, ReservationStatus};

/// What is asked of an order's reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Reserve every line or nothing (`order.created`).
    Reserve(ReservationRequest),
    /// The order is confirmed: its reservation becomes a sale (`order.confirmed`).
    Confirm(Uuid),
    /// The order is cancelled: give its reservation back (`order.cancelled`).
    Cancel(Uuid),
    /// Reserve every line or nothing by hand (`POST /stock/reserve`), under an order id the
    /// saga has not seen.
    ReserveByHand(ReservationRequest),
    /// Give a manual reservation back (`DELETE /stock/reserve/{order_id}`).
    ReleaseByHand(Uuid),
}

/// Whose reservations a command reads and writes. An order id may have one reservation in
/// each book; a store keeps them apart, so that neither path can see the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Book {
    /// The order saga's: made on `order.created`, sold or released with the order.
    Saga,
    /// Made by hand with `POST /stock/reserve`, released by hand.
    Manual,
}

impl Command {
    pub fn order_id(&self) -> Uuid {
        match self {
            Command::Reserve(r) | Command::ReserveByHand(r) => r.order_id,
            Command::Confirm(id) | Command::Cancel(id) | Command::ReleaseByHand(id) => *id,
        }
    }

    /// The book of the reservation this command acts on.
    pub fn book(&self) -> Book {
        match self {
            Command::Reserve(_) | Command::Confirm(_) | Command::Cancel(_) => Book::Saga,
            Command::ReserveByHand(_) | Command::ReleaseByHand(_) => Book::Manual,
        }
    }
}

/// Whether the saga's book has a record of an order id, of any status (a tombstone too): then
/// the saga has seen the order, and its id is the saga's alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SagaRecord {
    Absent,
    Present,
}

impl SagaRecord {
    pub fn of(record: Option<&Reservation>) -> SagaRecord {
        match record {
            Some(_) => SagaRecord::Present,
            None => SagaRecord::Absent,
        }
    }
}

/// Why a command is refused as a whole: nothing changes and nothing is emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `ReserveByHand` under an order id the saga has seen.
    #[error("order {0} belongs to the order saga")]
    OrderBelongsToSaga(Uuid),
    /// `ReleaseByHand` of an order id with no reservation in either book.
    #[error("no reservation for order {0}")]
    ReservationNotFound(Uuid),
    /// `ReleaseByHand` of an order id with the saga's reservation only.
    #[error("the reservation of order {0} is the order saga's")]
    ReservationOwnedBySaga(Uuid),
    /// A change the stock numbers cannot take, or stored numbers that contradict themselves.
    #[error(transparent)]
    Stock(#[from] StockError),
}

/// The products [`decide`] needs for `command`, sorted (the order to lock them in).
pub fn skus_to_load(command: &Command, existing: Option<&Reservation>) -> Vec<Sku> {
    let lines = match (command, existing) {
        (Command::Reserve(request) | Command::ReserveByHand(request), None) => &request.lines,
        (Command::Confirm(_) | Command::Cancel(_) | Command::ReleaseByHand(_), Some(r))
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

/// Applies `command` to the order's reservation in the command's [`Book`], `existing`, and the
/// `products` of [`skus_to_load`] (a SKU missing from `products` is not known to the store).
/// `saga` says whether the saga's book has the order id; only a manual command asks (for a
/// saga command it is `SagaRecord::of(existing)`).
///
/// A manual reservation that exists is answered as it stands (a repeated request), even if the
/// saga has seen its order id since; a new one under an order id the saga has seen is refused.
pub fn decide(
    command: &Command,
    existing: Option<&Reservation>,
    saga: SagaRecord,
    products: &BTreeMap<Sku, Product>,
    repeats: Repeats,
) -> Result<Decision, Refusal> {
    match command {
        Command::Reserve(request) => Ok(reserve(request, existing, products, repeats)),
        Command::Confirm(order_id) => Ok(settle(*order_id, existing, products, Settle::Sell)?),
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
            Some(_) => Ok(settle(*order_id, existing, products, Settle::Release)?),
        },
        Command::ReserveByHand(request) => match (existing, saga) {
            (None, SagaRecord::Present) => Err(Refusal::OrderBelongsToSaga(request.order_id)),
            // A repeat is never announced again: nobody waits for a manual answer.
            _ => Ok(reserve(request, existing, products, Repeats::Silent)),
        },
        Command::ReleaseByHand(order_id) => match (existing, saga) {
            (Some(_), _) => Ok(settle(*order_id, existing, products, Settle::Release)?),
            (None, SagaRecord::Present) => Err(Refusal::ReservationOwnedBySaga(*order_id)),
            (None, SagaRecord::Absent) => Err(Refusal::ReservationNotFound(*order_id)),
        },
    }
}
