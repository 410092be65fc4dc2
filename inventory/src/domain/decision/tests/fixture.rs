//! The given/when/then fixture of the decision tests: [`given`] facts (stock, commands
//! applied before, a product gone), `when` a command, `then_expect` a decision, `then_reject`
//! or `then_fail`. The reservations are kept per [`Book`], as a store keeps them.

use std::collections::BTreeMap;

use saga_contracts::{EventPayload, EventType};
use uuid::Uuid;

use super::super::*;
use crate::domain::{NewProduct, ProductName, RejectReason};
use EventType::StockRejected;

/// What is true before the command.
pub(super) enum Fact {
    /// A product with its available stock and low-stock threshold.
    Stock(&'static str, u64, u64),
    /// A command applied before, as a store would apply it.
    Done(Command),
    /// A product gone from the store (data that contradicts itself).
    Missing(&'static str),
}

pub(super) fn stock(sku: &'static str, available: u64) -> Fact {
    Fact::Stock(sku, available, 0)
}

pub(super) fn done(command: Command) -> Fact {
    Fact::Done(command)
}

pub(super) fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub(super) fn reserve(order: u128, lines: &[(&str, u32)]) -> Command {
    let raw = lines.iter().map(|&(s, q)| (s.to_owned(), q));
    Command::Reserve(ReservationRequest::from_raw(Uuid::from_u128(order), raw).unwrap())
}

pub(super) fn confirm(order: u128) -> Command {
    Command::Confirm(Uuid::from_u128(order))
}

pub(super) fn cancel(order: u128) -> Command {
    Command::Cancel(Uuid::from_u128(order))
}

pub(super) fn reserve_by_hand(order: u128, lines: &[(&str, u32)]) -> Command {
    let Command::Reserve(request) = reserve(order, lines) else {
        unreachable!()
    };
    Command::ReserveByHand(request)
}

pub(super) fn release_by_hand(order: u128) -> Command {
    Command::ReleaseByHand(Uuid::from_u128(order))
}

/// The store's state: the products, and the reservation of each order in each book.
pub(super) struct Given {
    products: BTreeMap<Sku, Product>,
    reservations: BTreeMap<(Book, Uuid), Reservation>,
    repeats: Repeats,
}

pub(super) fn given(facts: &[Fact]) -> Given {
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
    pub(super) fn announcing(mut self) -> Given {
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
            self.reservations.insert((command.book(), r.order_id), r);
        }
    }

    /// The order's reservation in the command's book.
    fn existing(&self, command: &Command) -> Option<&Reservation> {
        self.reservations.get(&(command.book(), command.order_id()))
    }

    /// [`decide`] on what a store would load for `command`.
    fn decide(&self, command: &Command) -> Result<Decision, Refusal> {
        let existing = self.existing(command);
        let saga = SagaRecord::of(self.reservations.get(&(Book::Saga, command.order_id())));
        let loaded = skus_to_load(command, existing)
            .into_iter()
            .filter_map(|s| self.products.get(&s).map(|p| (s, p.clone())))
            .collect();
        decide(command, existing, saga, &loaded, self.repeats)
    }

    pub(super) fn when(self, command: Command) -> When {
        let existing = self.existing(&command).cloned();
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
pub(super) struct When {
    /// The order's reservation before it.
    existing: Option<Reservation>,
    /// The products loaded for it.
    loads: Vec<Sku>,
    result: Result<Decision, Refusal>,
}

/// The decision expected: the reservation's status after it, whether it is written, the
/// events (by type) and each changed product's `(available, reserved, sold)`.
pub(super) struct Expect {
    status: Option<ReservationStatus>,
    changed: bool,
    events: Vec<EventType>,
    numbers: Vec<(u64, u64, u64)>,
}

/// A decision that writes the reservation.
pub(super) fn changed(
    status: ReservationStatus,
    events: &[EventType],
    numbers: &[(u64, u64, u64)],
) -> Expect {
    Expect {
        status: Some(status),
        changed: true,
        events: events.to_vec(),
        numbers: numbers.to_vec(),
    }
}

/// A decision that changes nothing and announces `events`.
pub(super) fn unchanged(status: Option<ReservationStatus>, events: &[EventType]) -> Expect {
    Expect {
        status,
        changed: false,
        events: events.to_vec(),
        numbers: Vec::new(),
    }
}

impl When {
    /// The products loaded for the command, as given.
    pub(super) fn loading(self, skus: &[&str]) -> When {
        let expected: Vec<Sku> = skus.iter().map(|s| sku(s)).collect();
        assert_eq!(self.loads, expected, "products loaded");
        self
    }

    pub(super) fn then_expect(self, expect: Expect) -> Decision {
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
    pub(super) fn then_reject(self, reason: RejectReason, short: &[&str]) {
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

    pub(super) fn then_fail(self) -> Refusal {
        self.result.expect_err("an error")
    }

    /// The command is refused as a whole: no decision at all.
    pub(super) fn then_refuse(self, refusal: Refusal) {
        assert_eq!(self.result, Err(refusal));
    }
}
