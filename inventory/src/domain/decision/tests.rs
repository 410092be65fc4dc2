//! The cases of [`decide`], as given / when / then (after cqrs-es's test framework): given the
//! stock and the commands applied before, when a command, then the decision expected (or the
//! rejection, or the error). The fixture loads what a store would ([`skus_to_load`]) and checks
//! what every decision must keep: a decision that changes nothing leaves the reservation as it
//! was.

use std::collections::BTreeMap;

use shared_events::{EventPayload, EventType};
use uuid::Uuid;

use super::*;
use crate::domain::{NewProduct, ProductName, RejectReason};
use EventType::{LowStock, StockRejected, StockReleased, StockReserved, StockUpdated};
use ReservationStatus::{Released, Reserved, Sold, Tombstone};

// ---------------------------------------------------------------------------------------------
// The fixture.

/// What is true before the command.
enum Fact {
    /// A product with its available stock and low-stock threshold.
    Stock(&'static str, u64, u64),
    /// A command applied before, as a store would apply it.
    Done(Command),
    /// A product gone from the store (data that contradicts itself).
    Missing(&'static str),
}

fn stock(sku: &'static str, available: u64) -> Fact {
    Fact::Stock(sku, available, 0)
}

fn done(command: Command) -> Fact {
    Fact::Done(command)
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn reserve(order: u128, lines: &[(&str, u32)]) -> Command {
    let raw = lines.iter().map(|&(s, q)| (s.to_owned(), q));
    Command::Reserve(ReservationRequest::from_raw(Uuid::from_u128(order), raw).unwrap())
}

fn confirm(order: u128) -> Command {
    Command::Confirm(Uuid::from_u128(order))
}

fn cancel(order: u128) -> Command {
    Command::Cancel(Uuid::from_u128(order))
}

/// The store's state: the products, and the reservation of each order.
struct Given {
    products: BTreeMap<Sku, Product>,
    reservations: BTreeMap<Uuid, Reservation>,
    repeats: Repeats,
}

fn given(facts: &[Fact]) -> Given {
    let mut state = Given {
        products: BTreeMap::new(),
        reservations: BTreeMap::new(),
        repeats: Repeats::Silent,
    };
    for fact in facts {
        match fact {
            Fact::Stock(s, available, threshold) => {
                let p = Product::new(NewProduct {
                    sku: sku(s),
                    name: ProductName::parse(s).unwrap(),
                    price: "1.00".parse().unwrap(),
                    quantity: *available,
                    low_stock_threshold: *threshold,
                });
                state.products.insert(sku(s), p);
            }
            Fact::Done(command) => state.apply(command),
            Fact::Missing(s) => {
                state.products.remove(&sku(s));
            }
        }
    }
    state
}

impl Given {
    /// A repeated reserve announces its answer again (as the saga's do).
    fn announcing(mut self) -> Given {
        self.repeats = Repeats::Announce;
        self
    }

    fn apply(&mut self, command: &Command) {
        let decision = self.decide(command).expect("a fact applies");
        for c in &decision.products {
            assert_eq!(self.products[&c.after.sku], c.before);
            self.products.insert(c.after.sku.clone(), c.after.clone());
        }
        if let Some(r) = decision.reservation {
            self.reservations.insert(r.order_id, r);
        }
    }

    /// [`decide`] on what a store would load for `command`.
    fn decide(&self, command: &Command) -> Result<Decision, StockError> {
        let existing = self.reservations.get(&command.order_id());
        let loaded = skus_to_load(command, existing)
            .into_iter()
            .filter_map(|s| self.products.get(&s).map(|p| (s, p.clone())))
            .collect();
        decide(command, existing, &loaded, self.repeats)
    }

    fn when(self, command: Command) -> When {
        let existing = self.reservations.get(&command.order_id()).cloned();
        let loads = skus_to_load(&command, existing.as_ref());
        let result = self.decide(&command);
        When {
            existing,
            loads,
            result,
        }
    }
}

/// A command decided.
struct When {
    /// The order's reservation before it.
    existing: Option<Reservation>,
    /// The products loaded for it.
    loads: Vec<Sku>,
    result: Result<Decision, StockError>,
}

/// The decision expected: the reservation's status after it, whether it is written, the
/// events (by type) and each changed product's `(available, reserved, sold)`.
struct Expect {
    status: Option<ReservationStatus>,
    changed: bool,
    events: Vec<EventType>,
    numbers: Vec<(u64, u64, u64)>,
}

/// A decision that writes the reservation.
fn changed(status: ReservationStatus, events: &[EventType], numbers: &[(u64, u64, u64)]) -> Expect {
    Expect {
        status: Some(status),
        changed: true,
        events: events.to_vec(),
        numbers: numbers.to_vec(),
    }
}

/// A decision that changes nothing and announces `events`.
fn unchanged(status: Option<ReservationStatus>, events: &[EventType]) -> Expect {
    Expect {
        status,
        changed: false,
        events: events.to_vec(),
        numbers: Vec::new(),
    }
}

impl When {
    /// The products loaded for the command, as given.
    fn loading(self, skus: &[&str]) -> When {
        let expected: Vec<Sku> = skus.iter().map(|s| sku(s)).collect();
        assert_eq!(self.loads, expected, "products loaded");
        self
    }

    fn then_expect(self, expect: Expect) -> Decision {
        let d = self.result.expect("a decision");
        let status = d.reservation.as_ref().map(|r| r.status);
        let types: Vec<EventType> = d.events.iter().map(EventPayload::event_type).collect();
        let numbers: Vec<(u64, u64, u64)> = d
            .products
            .iter()
            .map(|c| (c.after.available, c.after.reserved, c.after.sold))
            .collect();
        assert_eq!(status, expect.status, "status: {d:?}");
        assert_eq!(d.reservation_changed, expect.changed, "changed: {d:?}");
        assert_eq!(types, expect.events, "events: {d:?}");
        assert_eq!(numbers, expect.numbers, "numbers: {d:?}");
        if !d.reservation_changed {
            assert_eq!(d.reservation, self.existing, "left as it was");
        }
        d
    }

    /// The order is rejected for `reason`, listing `short` (sorted), with one `stock.rejected`
    /// and no product touched.
    fn then_reject(self, reason: RejectReason, short: &[&str]) {
        let d = self.then_expect(changed(ReservationStatus::Rejected, &[StockRejected], &[]));
        let rejection = d.reservation.unwrap().rejection.expect("a rejection");
        assert_eq!(rejection.reason, reason);
        assert_eq!(rejection.short_skus, short);
        let [EventPayload::StockRejected(e)] = &d.events[..] else {
            panic!("{:?}", d.events)
        };
        assert_eq!(e.reason, reason.as_str());
        assert_eq!(e.short_skus, short);
    }

    fn then_fail(self) -> StockError {
        self.result.expect_err("an error")
    }
}

// ---------------------------------------------------------------------------------------------
// The cases.

#[test]
fn reserves_every_line_and_announces_it() {
    given(&[stock("a", 5), stock("b", 2)])
        .when(reserve(1, &[("a", 5), ("b", 1)]))
        .loading(&["a", "b"])
        .then_expect(changed(
            Reserved,
            &[StockReserved, StockUpdated, StockUpdated],
            &[(0, 5, 0), (1, 1, 0)],
        ));
}

#[test]
fn one_short_line_rejects_the_whole_order_listing_the_short_skus() {
    given(&[stock("a", 5), stock("b", 2), stock("c", 0)])
        .when(reserve(1, &[("a", 5), ("b", 3), ("c", 1)]))
        .then_reject(RejectReason::OutOfStock, &["b", "c"]);
}

#[test]
fn unknown_skus_reject_before_stock_is_considered() {
    given(&[stock("a", 0)])
        .when(reserve(1, &[("a", 1), ("zz", 1), ("bad sku", 1)]))
        .then_reject(RejectReason::UnknownSku, &["bad sku", "zz"]);
}

#[test]
fn a_repeat_changes_nothing_and_announces_only_when_asked() {
    let facts = [stock("a", 5), done(reserve(1, &[("a", 2)]))];
    given(&facts)
        .when(reserve(1, &[("a", 2)]))
        .loading(&[])
        .then_expect(unchanged(Some(Reserved), &[]));
    given(&facts)
        .announcing()
        .when(reserve(1, &[("a", 2)]))
        .then_expect(unchanged(Some(Reserved), &[StockReserved]));
}

#[test]
fn confirm_sells_and_cancel_releases() {
    let facts = [stock("a", 5), done(reserve(1, &[("a", 2)]))];
    given(&facts)
        .when(confirm(1))
        .loading(&["a"])
        .then_expect(changed(Sold, &[StockUpdated], &[(3, 0, 2)]));
    given(&facts).when(cancel(1)).then_expect(changed(
        Released,
        &[StockReleased, StockUpdated],
        &[(5, 0, 0)],
    ));
}

#[test]
fn cancel_first_leaves_a_tombstone_that_a_late_reserve_respects() {
    given(&[stock("a", 5)])
        .announcing()
        .when(cancel(1))
        .then_expect(changed(Tombstone, &[], &[]));
    let facts = [stock("a", 5), done(cancel(1))];
    given(&facts)
        .announcing()
        .when(reserve(1, &[("a", 2)]))
        .loading(&[])
        .then_expect(unchanged(Some(Tombstone), &[]));
    given(&facts)
        .announcing()
        .when(cancel(1))
        .then_expect(unchanged(Some(Tombstone), &[]));
}

#[test]
fn final_states_ignore_further_commands() {
    let facts = [
        stock("a", 5),
        done(reserve(1, &[("a", 2)])),
        done(confirm(1)),
    ];
    for command in [confirm(1), cancel(1)] {
        given(&facts)
            .when(command)
            .then_expect(unchanged(Some(Sold), &[]));
    }
    given(&facts)
        .when(confirm(9))
        .then_expect(unchanged(None, &[]));
}

#[test]
fn reserving_across_the_threshold_emits_low_stock() {
    given(&[Fact::Stock("a", 10, 5)])
        .when(reserve(1, &[("a", 6)]))
        .then_expect(changed(
            Reserved,
            &[StockReserved, StockUpdated, LowStock],
            &[(4, 6, 0)],
        ));
}

#[test]
fn a_reservation_of_a_missing_product_is_an_inconsistency() {
    let error = given(&[
        stock("a", 5),
        done(reserve(1, &[("a", 2)])),
        Fact::Missing("a"),
    ])
    .when(cancel(1))
    .then_fail();
    assert!(matches!(error, StockError::Inconsistent { .. }), "{error}");
}
