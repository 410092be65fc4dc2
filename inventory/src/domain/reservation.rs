//! A reservation: what inventory holds for one order, and the request that makes one.
//!
//! There is at most one reservation per order id in each book (the saga's, and the manual
//! one of `POST /stock/reserve`, [`super::Book`]); its status only moves forward:
//!
//! ```text
//! (none) ──reserve──▶ RESERVED ──confirm──▶ SOLD
//!    │        │           └─────cancel────▶ RELEASED
//!    │        └─short/unknown─▶ REJECTED
//!    └──cancel──▶ TOMBSTONE   (a cancel seen first: a later reserve does nothing)
//! ```
//!
//! A manual reservation is only ever `RESERVED`, `REJECTED` or `RELEASED` (released by hand):
//! the saga's confirmations and cancellations act on the saga's book alone.

use std::collections::BTreeMap;

use saga_contracts::Sku;
use uuid::Uuid;

use super::quantity::MAX_QUANTITY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    Reserved,
    Sold,
    Released,
    Rejected,
    Tombstone,
}

impl ReservationStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReservationStatus::Reserved => "RESERVED",
            ReservationStatus::Sold => "SOLD",
            ReservationStatus::Released => "RELEASED",
            ReservationStatus::Rejected => "REJECTED",
            ReservationStatus::Tombstone => "TOMBSTONE",
        }
    }

    pub fn parse(s: &str) -> Option<ReservationStatus> {
        Some(match s {
            "RESERVED" => ReservationStatus::Reserved,
            "SOLD" => ReservationStatus::Sold,
            "RELEASED" => ReservationStatus::Released,
            "REJECTED" => ReservationStatus::Rejected,
            "TOMBSTONE" => ReservationStatus::Tombstone,
            _ => return None,
        })
    }
}

/// Why a reservation was refused; the stable codes of `stock.rejected.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    OutOfStock,
    UnknownSku,
}

impl RejectReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectReason::OutOfStock => "out_of_stock",
            RejectReason::UnknownSku => "unknown_sku",
        }
    }

    pub fn parse(s: &str) -> Option<RejectReason> {
        match s {
            "out_of_stock" => Some(RejectReason::OutOfStock),
            "unknown_sku" => Some(RejectReason::UnknownSku),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: RejectReason,
    /// The SKUs that could not be covered (or are not known), sorted.
    pub short_skus: Vec<String>,
}

/// One line of a reservation: a SKU and a quantity of at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sku: Sku,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub order_id: Uuid,
    pub status: ReservationStatus,
    /// The lines, one per SKU, sorted by SKU (empty for a tombstone).
    pub lines: Vec<Line>,
    /// Set when `status` is `REJECTED`.
    pub rejection: Option<Rejection>,
}

/// A request to reserve: the lines merged per SKU and sorted, so that each product is touched
/// once and always in the same order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationRequest {
    pub order_id: Uuid,
    pub lines: Vec<Line>,
    /// SKUs named by an event that are not even well-formed; such a request is rejected as
    /// `unknown_sku`. Always empty for an HTTP request, which refuses them outright.
    pub malformed_skus: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("a reservation needs at least one item")]
    NoItems,
    #[error("the quantity of {sku} must be between 1 and {MAX_QUANTITY}")]
    InvalidQuantity { sku: String },
}

impl ReservationRequest {
    pub fn new(order_id: Uuid, lines: Vec<Line>) -> Result<Self, RequestError> {
        Self::build(order_id, lines, Vec::new())
    }

    /// From an event's raw lines: SKUs that do not parse are kept as `malformed_skus`.
    pub fn from_raw(
        order_id: Uuid,
        raw: impl IntoIterator<Item = (String, u32)>,
    ) -> Result<Self, RequestError> {
        let mut lines = Vec::new();
        let mut malformed = Vec::new();
        for (sku, quantity) in raw {
            match Sku::parse(&sku) {
                Ok(sku) => lines.push(Line { sku, quantity }),
                Err(_) if quantity == 0 => return Err(RequestError::InvalidQuantity { sku }),
                Err(_) => malformed.push(sku),
            }
        }
        malformed.sort();
        malformed.dedup();
        Self::build(order_id, lines, malformed)
    }

    fn build(
        order_id: Uuid,
        lines: Vec<Line>,
        malformed_skus: Vec<String>,
    ) -> Result<Self, RequestError> {
        if lines.is_empty() && malformed_skus.is_empty() {
            return Err(RequestError::NoItems);
        }
        let mut merged: BTreeMap<Sku, u64> = BTreeMap::new();
        for line in lines {
            if line.quantity == 0 {
                return Err(RequestError::InvalidQuantity {
                    sku: line.sku.to_string(),
                });
            }
            *merged.entry(line.sku).or_default() += u64::from(line.quantity);
        }
        let lines = merged
            .into_iter()
            .map(|(sku, quantity)| match u32::try_from(quantity) {
                Ok(q) if u64::from(q) <= MAX_QUANTITY => Ok(Line { sku, quantity: q }),
                _ => Err(RequestError::InvalidQuantity {
                    sku: sku.to_string(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReservationRequest {
            order_id,
            lines,
            malformed_skus,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: u32) -> Line {
        Line {
            sku: Sku::parse(sku).unwrap(),
            quantity,
        }
    }

    #[test]
    fn lines_are_merged_per_sku_and_sorted() {
        let r =
            ReservationRequest::new(Uuid::nil(), vec![line("b", 1), line("a", 2), line("b", 3)])
                .unwrap();
        assert_eq!(r.lines, vec![line("a", 2), line("b", 4)]);
    }

    #[test]
    fn empty_zero_and_oversized_requests_are_refused() {
        assert_eq!(
            ReservationRequest::new(Uuid::nil(), vec![]),
            Err(RequestError::NoItems)
        );
        assert!(matches!(
            ReservationRequest::new(Uuid::nil(), vec![line("a", 0)]),
            Err(RequestError::InvalidQuantity { .. })
        ));
        let big = MAX_QUANTITY as u32;
        assert!(ReservationRequest::new(Uuid::nil(), vec![line("a", big)]).is_ok());
        assert!(matches!(
            ReservationRequest::new(Uuid::nil(), vec![line("a", big), line("a", 1)]),
            Err(RequestError::InvalidQuantity { .. })
        ));
    }

    #[test]
    fn malformed_skus_from_events_are_kept_aside() {
        let r = ReservationRequest::from_raw(
            Uuid::nil(),
            [("ok".to_owned(), 1), ("not ok".to_owned(), 2)],
        )
        .unwrap();
        assert_eq!(r.lines, vec![line("ok", 1)]);
        assert_eq!(r.malformed_skus, vec!["not ok".to_owned()]);
    }

    #[test]
    fn statuses_and_reasons_round_trip() {
        for s in [
            ReservationStatus::Reserved,
            ReservationStatus::Sold,
            ReservationStatus::Released,
            ReservationStatus::Rejected,
            ReservationStatus::Tombstone,
        ] {
            assert_eq!(ReservationStatus::parse(s.as_str()), Some(s));
        }
        for r in [RejectReason::OutOfStock, RejectReason::UnknownSku] {
            assert_eq!(RejectReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(ReservationStatus::parse("reserved"), None);
    }
}
