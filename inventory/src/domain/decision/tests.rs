//! The cases of [`decide`], as given / when / then (after cqrs-es's test framework): given the
//! stock and the commands applied before, when a command, then the decision expected (or the
//! rejection, or the error). The fixture loads what a store would ([`skus_to_load`]) and checks
//! what every decision must keep: a decision that changes nothing leaves the reservation as it
//! was. The saga's and the manual reservations of one order id are kept apart, as stores do.

mod fixture;

use saga_contracts::EventType;

use self::fixture::{
    cancel, changed, confirm, done, given, release_by_hand, reserve, reserve_by_hand, stock,
    unchanged, Fact,
};
use super::*;
use crate::domain::RejectReason;
use EventType::{LowStock, StockReleased, StockReserved, StockUpdated};
use ReservationStatus::{Released, Reserved, Sold, Tombstone};
use Uuid as Id;

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
    assert!(
        matches!(error, Refusal::Stock(StockError::Inconsistent { .. })),
        "{error}"
    );
}

#[test]
fn the_saga_reserves_sells_and_releases_its_own_beside_a_manual_reservation() {
    let manual = [
        stock("a", 5),
        stock("b", 5),
        done(reserve_by_hand(1, &[("a", 2)])),
    ];
    given(&manual)
        .announcing()
        .when(reserve(1, &[("b", 1)]))
        .loading(&["b"])
        .then_expect(changed(
            Reserved,
            &[StockReserved, StockUpdated],
            &[(4, 1, 0)],
        ));
    let both = [
        stock("a", 5),
        stock("b", 5),
        done(reserve_by_hand(1, &[("a", 2)])),
        done(reserve(1, &[("b", 1)])),
    ];
    given(&both)
        .when(confirm(1))
        .loading(&["b"])
        .then_expect(changed(Sold, &[StockUpdated], &[(4, 0, 1)]));
    given(&both)
        .when(cancel(1))
        .loading(&["b"])
        .then_expect(changed(
            Released,
            &[StockReleased, StockUpdated],
            &[(5, 0, 0)],
        ));
    // The manual one is the operator's to give back, whatever the saga did with its own.
    given(&both)
        .when(release_by_hand(1))
        .loading(&["a"])
        .then_expect(changed(
            Released,
            &[StockReleased, StockUpdated],
            &[(5, 0, 0)],
        ));
    // A cancel before the order leaves the saga's tombstone, not the manual reservation.
    given(&manual)
        .when(cancel(1))
        .then_expect(changed(Tombstone, &[], &[]));
}

#[test]
fn an_order_id_the_saga_has_seen_is_refused_by_hand() {
    for seen in [done(reserve(1, &[("a", 1)])), done(cancel(1))] {
        let facts = [stock("a", 5), seen];
        given(&facts)
            .when(reserve_by_hand(1, &[("a", 1)]))
            .then_refuse(Refusal::OrderBelongsToSaga(Id::from_u128(1)));
        given(&facts)
            .when(release_by_hand(1))
            .then_refuse(Refusal::ReservationOwnedBySaga(Id::from_u128(1)));
    }
    given(&[stock("a", 5)])
        .when(release_by_hand(1))
        .then_refuse(Refusal::ReservationNotFound(Id::from_u128(1)));
}

#[test]
fn a_repeated_manual_reservation_is_answered_as_it_stands() {
    // Made before the saga saw the order id: the repeat is the first answer, and no effect.
    let facts = [
        stock("a", 5),
        done(reserve_by_hand(1, &[("a", 2)])),
        done(reserve(1, &[("a", 1)])),
    ];
    given(&facts)
        .announcing()
        .when(reserve_by_hand(1, &[("a", 2)]))
        .loading(&[])
        .then_expect(unchanged(Some(Reserved), &[]));
    let released = [
        stock("a", 5),
        done(reserve_by_hand(1, &[("a", 2)])),
        done(release_by_hand(1)),
    ];
    given(&released)
        .when(reserve_by_hand(1, &[("a", 2)]))
        .then_expect(unchanged(Some(Released), &[]));
    given(&released)
        .when(release_by_hand(1))
        .then_expect(unchanged(Some(Released), &[]));
}
