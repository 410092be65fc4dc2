//! The reservation logic, as pure functions: given an order's reservation record (if any) and
//! the products involved, what changes and which events go out. Both store adapters load that
//! state (locked, or in a snapshot transaction), call [`decide`], and write the [`Decision`]
//! and its events atomically.

use std::collections::BTreeMap;

use shared_events::events::{StockLine, StockRejected, StockReleased, StockReserved};
use shared_events::EventPayload;
use uuid::Uuid;

use super::product::{change_events, Product, StockError};
use super::reservation::{
    Line, RejectReason, Rejection, Reservation, ReservationRequest, ReservationStatus,
};
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

fn reserve(
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

enum Settle {
    Sell,
    Release,
}

/// Confirm or cancel: acts only on a `RESERVED` reservation; anything else is already final
/// (or, for a confirm, unknown here) and is left as it is.
fn settle(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewProduct, ProductName};
    use shared_events::EventType;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn catalog(items: &[(&str, u64, u64)]) -> BTreeMap<Sku, Product> {
        items
            .iter()
            .map(|&(s, available, threshold)| {
                let p = Product::new(NewProduct {
                    sku: sku(s),
                    name: ProductName::parse(s).unwrap(),
                    price: "1.00".parse().unwrap(),
                    quantity: available,
                    low_stock_threshold: threshold,
                });
                (sku(s), p)
            })
            .collect()
    }

    fn request(order: u128, lines: &[(&str, u32)]) -> Command {
        Command::Reserve(
            ReservationRequest::new(
                Uuid::from_u128(order),
                lines
                    .iter()
                    .map(|&(s, quantity)| Line {
                        sku: sku(s),
                        quantity,
                    })
                    .collect(),
            )
            .unwrap(),
        )
    }

    fn types(d: &Decision) -> Vec<EventType> {
        d.events.iter().map(EventPayload::event_type).collect()
    }

    /// Applies a decision to the catalog, as a store would.
    fn apply(products: &mut BTreeMap<Sku, Product>, d: &Decision) {
        for c in &d.products {
            assert_eq!(products[&c.after.sku], c.before);
            products.insert(c.after.sku.clone(), c.after.clone());
        }
    }

    #[test]
    fn reserves_every_line_and_announces_it() {
        let products = catalog(&[("a", 5, 0), ("b", 2, 0)]);
        let cmd = request(1, &[("a", 5), ("b", 1)]);
        assert_eq!(skus_to_load(&cmd, None), vec![sku("a"), sku("b")]);
        let d = decide(&cmd, None, &products, Repeats::Silent).unwrap();
        let r = d.reservation.as_ref().unwrap();
        assert_eq!(r.status, ReservationStatus::Reserved);
        assert!(d.reservation_changed);
        assert_eq!(
            types(&d),
            [
                EventType::StockReserved,
                EventType::StockUpdated,
                EventType::StockUpdated
            ]
        );
        let numbers: Vec<(u64, u64)> = d
            .products
            .iter()
            .map(|c| (c.after.available, c.after.reserved))
            .collect();
        assert_eq!(numbers, [(0, 5), (1, 1)]);
    }

    #[test]
    fn one_short_line_rejects_the_whole_order_listing_the_short_skus() {
        let products = catalog(&[("a", 5, 0), ("b", 2, 0), ("c", 0, 0)]);
        let cmd = request(1, &[("a", 5), ("b", 3), ("c", 1)]);
        let d = decide(&cmd, None, &products, Repeats::Silent).unwrap();
        assert!(d.products.is_empty());
        let r = d.reservation.unwrap();
        assert_eq!(r.status, ReservationStatus::Rejected);
        let EventPayload::StockRejected(e) = &d.events[0] else {
            panic!("{:?}", d.events)
        };
        assert_eq!(e.reason, "out_of_stock");
        assert_eq!(e.short_skus, ["b", "c"]);
        assert_eq!(d.events.len(), 1);
    }

    #[test]
    fn unknown_skus_reject_before_stock_is_considered() {
        let products = catalog(&[("a", 0, 0)]);
        let cmd = Command::Reserve(
            ReservationRequest::from_raw(
                Uuid::from_u128(1),
                [("a".into(), 1), ("zz".into(), 1), ("bad sku".into(), 1)],
            )
            .unwrap(),
        );
        let d = decide(&cmd, None, &products, Repeats::Silent).unwrap();
        let rejection = d.reservation.unwrap().rejection.unwrap();
        assert_eq!(rejection.reason, RejectReason::UnknownSku);
        assert_eq!(rejection.short_skus, ["bad sku", "zz"]);
    }

    #[test]
    fn a_repeat_changes_nothing_and_announces_only_when_asked() {
        let products = catalog(&[("a", 5, 0)]);
        let cmd = request(1, &[("a", 2)]);
        let first = decide(&cmd, None, &products, Repeats::Silent).unwrap();
        let existing = first.reservation.clone();
        assert!(skus_to_load(&cmd, existing.as_ref()).is_empty());
        let again = decide(&cmd, existing.as_ref(), &BTreeMap::new(), Repeats::Silent).unwrap();
        assert!(!again.reservation_changed && again.products.is_empty());
        assert!(again.events.is_empty());
        assert_eq!(again.reservation, existing);
        let announced =
            decide(&cmd, existing.as_ref(), &BTreeMap::new(), Repeats::Announce).unwrap();
        assert_eq!(types(&announced), [EventType::StockReserved]);
        assert!(announced.products.is_empty());
    }

    #[test]
    fn confirm_sells_and_cancel_releases() {
        let mut products = catalog(&[("a", 5, 0)]);
        let reserve = decide(&request(1, &[("a", 2)]), None, &products, Repeats::Silent).unwrap();
        apply(&mut products, &reserve);
        let reserved = reserve.reservation.clone();

        let confirm = Command::Confirm(Uuid::from_u128(1));
        assert_eq!(skus_to_load(&confirm, reserved.as_ref()), vec![sku("a")]);
        let sold = decide(&confirm, reserved.as_ref(), &products, Repeats::Silent).unwrap();
        assert_eq!(
            sold.reservation.as_ref().unwrap().status,
            ReservationStatus::Sold
        );
        assert_eq!(types(&sold), [EventType::StockUpdated]);
        let a = &sold.products[0].after;
        assert_eq!((a.available, a.reserved, a.sold), (3, 0, 2));

        let cancel = Command::Cancel(Uuid::from_u128(1));
        let released = decide(&cancel, reserved.as_ref(), &products, Repeats::Silent).unwrap();
        assert_eq!(
            released.reservation.as_ref().unwrap().status,
            ReservationStatus::Released
        );
        assert_eq!(
            types(&released),
            [EventType::StockReleased, EventType::StockUpdated]
        );
        let a = &released.products[0].after;
        assert_eq!((a.available, a.reserved, a.sold), (5, 0, 0));
    }

    #[test]
    fn cancel_first_leaves_a_tombstone_that_a_late_reserve_respects() {
        let products = catalog(&[("a", 5, 0)]);
        let cancel = Command::Cancel(Uuid::from_u128(1));
        let tomb = decide(&cancel, None, &BTreeMap::new(), Repeats::Announce).unwrap();
        let t = tomb.reservation.clone().unwrap();
        assert_eq!(t.status, ReservationStatus::Tombstone);
        assert!(tomb.reservation_changed && tomb.events.is_empty());

        let late = request(1, &[("a", 2)]);
        assert!(skus_to_load(&late, Some(&t)).is_empty());
        let d = decide(&late, Some(&t), &products, Repeats::Announce).unwrap();
        assert!(!d.reservation_changed && d.products.is_empty() && d.events.is_empty());
        assert_eq!(d.reservation.unwrap().status, ReservationStatus::Tombstone);
        let again = decide(&cancel, Some(&t), &BTreeMap::new(), Repeats::Announce).unwrap();
        assert!(!again.reservation_changed && again.events.is_empty());
    }

    #[test]
    fn final_states_ignore_further_commands() {
        let mut products = catalog(&[("a", 5, 0)]);
        let reserve = decide(&request(1, &[("a", 2)]), None, &products, Repeats::Silent).unwrap();
        apply(&mut products, &reserve);
        let sold = decide(
            &Command::Confirm(Uuid::from_u128(1)),
            reserve.reservation.as_ref(),
            &products,
            Repeats::Silent,
        )
        .unwrap();
        for cmd in [
            Command::Confirm(Uuid::from_u128(1)),
            Command::Cancel(Uuid::from_u128(1)),
        ] {
            let d = decide(&cmd, sold.reservation.as_ref(), &products, Repeats::Silent).unwrap();
            assert!(!d.reservation_changed && d.products.is_empty() && d.events.is_empty());
        }
        let unknown = decide(
            &Command::Confirm(Uuid::from_u128(9)),
            None,
            &products,
            Repeats::Silent,
        )
        .unwrap();
        assert!(unknown.reservation.is_none() && unknown.events.is_empty());
    }

    #[test]
    fn reserving_across_the_threshold_emits_low_stock() {
        let products = catalog(&[("a", 10, 5)]);
        let d = decide(&request(1, &[("a", 6)]), None, &products, Repeats::Silent).unwrap();
        assert_eq!(
            types(&d),
            [
                EventType::StockReserved,
                EventType::StockUpdated,
                EventType::LowStock
            ]
        );
    }

    #[test]
    fn a_reservation_of_a_missing_product_is_an_inconsistency() {
        let products = catalog(&[("a", 5, 0)]);
        let reserve = decide(&request(1, &[("a", 2)]), None, &products, Repeats::Silent).unwrap();
        let err = decide(
            &Command::Cancel(Uuid::from_u128(1)),
            reserve.reservation.as_ref(),
            &BTreeMap::new(),
            Repeats::Silent,
        );
        assert!(matches!(err, Err(StockError::Inconsistent { .. })));
    }
}
