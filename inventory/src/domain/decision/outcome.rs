//! What a command decides ([`Decision`]): the order's reservation as it leaves it, the
//! products whose numbers change, and the events that go out with the change. Shared by
//! [`super::reserve`] and [`super::settle`], which make decisions, and [`super::decide`], which
//! picks between them.

use saga_contracts::events::{StockLine, StockRejected, StockReserved};
use saga_contracts::EventPayload;

use crate::domain::product::Product;
use crate::domain::reservation::{Line, Reservation, ReservationStatus};

/// Whether a repeated `Reserve` for an order already answered announces that answer again.
/// The saga does (the asker may be waiting for it); a repeated `ReserveByHand` never does.
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
    pub(super) fn unchanged(existing: Option<&Reservation>, note: &'static str) -> Decision {
        Decision {
            reservation: existing.cloned(),
            reservation_changed: false,
            products: Vec::new(),
            events: Vec::new(),
            note,
        }
    }
}

/// The answer to a reserve, as an event: `stock.reserved` or `stock.rejected`.
pub(super) fn announcement(reservation: &Reservation) -> Option<EventPayload> {
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

/// The lines of a reservation as the events carry them.
pub fn stock_lines(lines: &[Line]) -> Vec<StockLine> {
    lines
        .iter()
        .map(|l| StockLine {
            sku: l.sku.to_string(),
            quantity: l.quantity,
        })
        .collect()
}
