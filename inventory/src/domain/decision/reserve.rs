//! A `Reserve`: every line of the request is covered, or the whole order is rejected (unknown
//! SKUs first, then short stock). An order already answered is answered the same again.

use std::collections::BTreeMap;

use saga_contracts::{EventPayload, Sku};

use super::outcome::{announcement, Decision, ProductChange, Repeats};
use crate::domain::product::{change_events, Product};
use crate::domain::reservation::{
    RejectReason, Rejection, Reservation, ReservationRequest, ReservationStatus,
};

/// Applies a reserve `request` to the order's reservation `existing`, given the products of
/// its lines (a SKU missing from `products` is not known).
pub(super) fn reserve(
    request: &ReservationRequest,
    existing: Option<&Reservation>,
    products: &BTreeMap<Sku, Product>,
    repeats: Repeats,
) -> Decision {
    if let Some(existing) = existing {
        let mut decision = Decision::unchanged(Some(existing), "reservation already answered");
        if repeats == Repeats::Announce {
            decision.events = announcement(existing).into_iter().collect();
        }
        if existing.status == ReservationStatus::Tombstone {
            decision.note = "order already cancelled (tombstone): nothing reserved";
        }
        return decision;
    }
    let mut unknown: Vec<String> = request.malformed_skus.clone();
    unknown.extend(
        request
            .lines
            .iter()
            .filter(|l| !products.contains_key(&l.sku))
            .map(|l| l.sku.to_string()),
    );
    let rejection = if !unknown.is_empty() {
        Some((RejectReason::UnknownSku, unknown))
    } else {
        let short: Vec<String> = request
            .lines
            .iter()
            .filter(|l| products[&l.sku].available < u64::from(l.quantity))
            .map(|l| l.sku.to_string())
            .collect();
        (!short.is_empty()).then_some((RejectReason::OutOfStock, short))
    };
    if let Some((reason, mut short_skus)) = rejection {
        short_skus.sort();
        short_skus.dedup();
        let reservation = Reservation {
            order_id: request.order_id,
            status: ReservationStatus::Rejected,
            lines: request.lines.clone(),
            rejection: Some(Rejection { reason, short_skus }),
        };
        return Decision {
            events: announcement(&reservation).into_iter().collect(),
            reservation: Some(reservation),
            reservation_changed: true,
            products: Vec::new(),
            note: "reservation rejected",
        };
    }
    let reservation = Reservation {
        order_id: request.order_id,
        status: ReservationStatus::Reserved,
        lines: request.lines.clone(),
        rejection: None,
    };
    let mut events: Vec<EventPayload> = announcement(&reservation).into_iter().collect();
    let mut changes = Vec::with_capacity(request.lines.len());
    for line in &request.lines {
        let before = &products[&line.sku];
        let after = before
            .reserve(u64::from(line.quantity))
            .expect("checked above that every line is covered");
        events.extend(change_events(Some(before), &after));
        changes.push(ProductChange {
            before: before.clone(),
            after,
        });
    }
    Decision {
        reservation: Some(reservation),
        reservation_changed: true,
        products: changes,
        events,
        note: "stock reserved",
    }
}
