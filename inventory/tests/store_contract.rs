//! The contract of the store port, run against both adapters: the same cases, written once over
//! `Arc<dyn InventoryStore>`, one test per case and adapter, each on a fresh database.
//!
//! - PostgreSQL: the local stack's server (`TEST_DATABASE_URL`).
//! - MongoDB: the server of `MONGODB_URL`, by default the local stack's SecantusDB; any replica
//!   set will do (the compose one: `MONGODB_URL='mongodb://127.0.0.1:27017/?replicaSet=rs0'`).
//!   No server fails these tests: they never pass by skipping.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{assert_balanced, deliver, order_cancelled, order_confirmed, order_created};
use futures::future::join_all;
use inventory::domain::{
    Command, Line, NewProduct, Product, ProductName, RejectReason, ReservationRequest,
    ReservationStatus, Sku, StockError,
};
use inventory::store::mongo::MongoStore;
use inventory::store::postgres::PgStore;
use inventory::store::{InventoryStore, StoreError};
use saga_contracts::{Envelope, EventPayload, EventType};
use saga_kit::http::ApiError;
use saga_messaging::postgres::PgSettings;
use saga_messaging::testing::{fresh_database_url, fresh_mongo_database};
use saga_messaging::{HandlerError, Outcome};
use uuid::Uuid;

type Store = Arc<dyn InventoryStore>;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

async fn create(store: &Store, s: &str, quantity: u64, threshold: u64) -> Product {
    store
        .create_product(
            NewProduct {
                sku: sku(s),
                name: ProductName::parse(&format!("Product {s}")).unwrap(),
                price: "3.25".parse().unwrap(),
                quantity,
                low_stock_threshold: threshold,
            },
            None,
        )
        .await
        .expect("product created")
}

fn request(order_id: Uuid, lines: &[(&str, u32)]) -> ReservationRequest {
    ReservationRequest::new(
        order_id,
        lines
            .iter()
            .map(|&(s, quantity)| Line {
                sku: sku(s),
                quantity,
            })
            .collect(),
    )
    .unwrap()
}

async fn product(store: &Store, s: &str) -> Product {
    let p = store
        .product(&sku(s))
        .await
        .unwrap()
        .expect("product exists");
    assert_balanced(&p);
    p
}

fn numbers(p: &Product) -> (u64, u64, u64) {
    (p.available, p.reserved, p.sold)
}

async fn events(store: &Store) -> Vec<Envelope> {
    store.outbox_events().await.unwrap()
}

fn of_type(events: &[Envelope], t: EventType) -> Vec<&Envelope> {
    events.iter().filter(|e| e.event_type() == t).collect()
}

/// The status and code a store's refusal answers over HTTP (SPEC §4).
fn answered(e: StoreError) -> (u16, String) {
    let e = ApiError::from(e);
    (e.status.as_u16(), e.code)
}

// ---------------------------------------------------------------------------------------------
// The cases.

async fn creating_restocking_and_reading_a_product(store: Store) {
    let created = create(&store, "W-1", 7, 2).await;
    assert_eq!(numbers(&created), (7, 0, 0));
    assert_eq!(product(&store, "W-1").await, created);
    assert_eq!(product(&store, "W-1").await.price.to_string(), "3.25");
    assert!(matches!(
        store
            .create_product(
                NewProduct {
                    sku: sku("W-1"),
                    name: ProductName::parse("Other").unwrap(),
                    price: "1".parse().unwrap(),
                    quantity: 1,
                    low_stock_threshold: 0,
                },
                None,
            )
            .await,
        Err(StoreError::SkuExists(_))
    ));
    let restocked = store.restock(&sku("W-1"), 5, None).await.unwrap();
    assert_eq!((restocked.available, restocked.restocked), (12, 5));
    assert_eq!(product(&store, "W-1").await, restocked);
    assert!(matches!(
        store.restock(&sku("nope"), 5, None).await,
        Err(StoreError::SkuNotFound(_))
    ));
    assert!(matches!(
        store.restock(&sku("W-1"), u64::MAX / 2, None).await,
        Err(StoreError::Stock(StockError::TooLarge))
    ));
    assert!(store.product(&sku("nope")).await.unwrap().is_none());

    let all = events(&store).await;
    let updates: Vec<(u64, u64)> = of_type(&all, EventType::StockUpdated)
        .iter()
        .map(|e| match &e.payload {
            EventPayload::StockUpdated(u) => {
                assert_eq!((u.sku.as_str(), u.name.as_str()), ("W-1", "Product W-1"));
                assert_eq!(u.price.to_string(), "3.25");
                (u.available, u.low_stock_threshold)
            }
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(updates, [(7, 2), (12, 2)]);
    assert_eq!(all.len(), 2, "only the two stock.updated: {all:?}");
    assert!(all.iter().all(|e| e.producer == "inventory"));
}

async fn a_reservation_is_all_or_nothing_and_names_what_is_short(store: Store) {
    create(&store, "A", 5, 0).await;
    create(&store, "B", 1, 0).await;
    create(&store, "C", 0, 0).await;
    let short = Uuid::now_v7();
    let r = store
        .reserve(request(short, &[("A", 2), ("B", 2), ("C", 1)]), None)
        .await
        .unwrap();
    assert_eq!(r.status, ReservationStatus::Rejected);
    let rejection = r.rejection.unwrap();
    assert_eq!(rejection.reason, RejectReason::OutOfStock);
    assert_eq!(rejection.short_skus, ["B", "C"]);
    assert_eq!(numbers(&product(&store, "A").await), (5, 0, 0));
    assert_eq!(numbers(&product(&store, "B").await), (1, 0, 0));

    let unknown = Uuid::now_v7();
    let r = store
        .reserve(request(unknown, &[("A", 1), ("ZZ", 1)]), None)
        .await
        .unwrap();
    let rejection = r.rejection.unwrap();
    assert_eq!(rejection.reason, RejectReason::UnknownSku);
    assert_eq!(rejection.short_skus, ["ZZ"]);
    assert_eq!(numbers(&product(&store, "A").await), (5, 0, 0));

    let ok = Uuid::now_v7();
    let r = store
        .reserve(request(ok, &[("B", 1), ("A", 5)]), None)
        .await
        .unwrap();
    assert_eq!(r.status, ReservationStatus::Reserved);
    assert_eq!(numbers(&product(&store, "A").await), (0, 5, 0));
    assert_eq!(numbers(&product(&store, "B").await), (0, 1, 0));

    let all = events(&store).await;
    let rejected: Vec<_> = of_type(&all, EventType::StockRejected)
        .into_iter()
        .map(|e| match &e.payload {
            EventPayload::StockRejected(r) => (r.order_id, r.reason.clone(), r.short_skus.clone()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (short, "out_of_stock".into(), vec!["B".into(), "C".into()]),
            (unknown, "unknown_sku".into(), vec!["ZZ".into()]),
        ]
    );
    let reserved = of_type(&all, EventType::StockReserved);
    assert_eq!(reserved.len(), 1);
    let EventPayload::StockReserved(r) = &reserved[0].payload else {
        unreachable!()
    };
    assert_eq!(r.order_id, ok);
    let lines: Vec<(&str, u32)> = r
        .items
        .iter()
        .map(|l| (l.sku.as_str(), l.quantity))
        .collect();
    assert_eq!(lines, [("A", 5), ("B", 1)]);
    // 3 creations + the 2 products of the reservation.
    assert_eq!(of_type(&all, EventType::StockUpdated).len(), 5);
}

async fn a_reservation_is_idempotent_per_order(store: Store) {
    create(&store, "A", 3, 0).await;
    let order = Uuid::now_v7();
    let first = store
        .reserve(request(order, &[("A", 2)]), None)
        .await
        .unwrap();
    let again = store
        .reserve(request(order, &[("A", 2)]), None)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(numbers(&product(&store, "A").await), (1, 2, 0));

    let refused = Uuid::now_v7();
    let r = store
        .reserve(request(refused, &[("A", 2)]), None)
        .await
        .unwrap();
    assert_eq!(r.status, ReservationStatus::Rejected);
    store.restock(&sku("A"), 10, None).await.unwrap();
    let r2 = store
        .reserve(request(refused, &[("A", 2)]), None)
        .await
        .unwrap();
    assert_eq!(r, r2, "the first answer stands");
    assert_eq!(numbers(&product(&store, "A").await), (11, 2, 0));

    let all = events(&store).await;
    assert_eq!(of_type(&all, EventType::StockReserved).len(), 1);
    assert_eq!(of_type(&all, EventType::StockRejected).len(), 1);
}

async fn a_manual_reservation_is_released_once_and_a_saga_one_is_refused(store: Store) {
    create(&store, "A", 5, 0).await;
    let manual = Uuid::now_v7();
    store
        .reserve(request(manual, &[("A", 3)]), None)
        .await
        .unwrap();
    for _ in 0..2 {
        let r = store.release(manual, None).await.unwrap();
        assert_eq!(r.status, ReservationStatus::Released);
        assert_eq!(numbers(&product(&store, "A").await), (5, 0, 0));
    }
    let saga = Uuid::now_v7();
    deliver(&*store, &order_created(saga, &[("A", 2)])).await;
    assert!(matches!(
        store.release(saga, None).await,
        Err(StoreError::ReservationOwnedBySaga(_))
    ));
    // A manual request for the saga's order id is refused, and does not make it releasable.
    assert!(matches!(
        store.reserve(request(saga, &[("A", 2)]), None).await,
        Err(StoreError::OrderBelongsToSaga(id)) if id == saga
    ));
    assert!(matches!(
        store.release(saga, None).await,
        Err(StoreError::ReservationOwnedBySaga(_))
    ));
    assert!(matches!(
        store.release(Uuid::now_v7(), None).await,
        Err(StoreError::ReservationNotFound(_))
    ));
    assert_eq!(numbers(&product(&store, "A").await), (3, 2, 0));
    let all = events(&store).await;
    assert_eq!(of_type(&all, EventType::StockReleased).len(), 1);
}

/// SPEC §7: a manual reservation under an order id the saga has not seen yet is the
/// operator's, not the order's. When the order's `order.created` arrives, the saga reserves the
/// order's own items (or rejects them on its own stock), caused by that event; the order's
/// confirmation sells exactly those and its cancellation releases exactly those. The manual
/// reservations stay as they were, for `DELETE /stock/reserve` to give back.
async fn a_manual_reservation_is_never_adopted_by_the_saga(store: Store) {
    create(&store, "M", 10, 0).await; // held by the manual reservations
    create(&store, "S", 10, 0).await; // ordered by the saga's orders
    let (sold, released, rejected) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let manual = [(sold, 3), (released, 2), (rejected, 1)];
    for (order, quantity) in manual {
        let r = store
            .reserve(request(order, &[("M", quantity)]), None)
            .await
            .unwrap();
        assert_eq!(r.status, ReservationStatus::Reserved);
    }
    assert_eq!(numbers(&product(&store, "M").await), (4, 6, 0));
    // Their stock.reserved are caused by no event, which tells the orders service that they
    // are no order's answer.
    let by_hand = events(&store).await;
    let answered_by_hand = of_type(&by_hand, EventType::StockReserved);
    assert_eq!(answered_by_hand.len(), 3);
    assert!(answered_by_hand.iter().all(|e| e.causation_id.is_none()));
    let before_saga = by_hand.len();

    // 4 + 5 of S reserved, then 2 more than the 1 left: rejected on S, whatever M holds.
    let created = [
        order_created(sold, &[("S", 4)]),
        order_created(released, &[("S", 5)]),
        order_created(rejected, &[("S", 2)]),
    ];
    for e in &created {
        assert_eq!(deliver(&*store, e).await, Outcome::Applied);
    }
    assert_eq!(numbers(&product(&store, "S").await), (1, 9, 0));
    assert_eq!(numbers(&product(&store, "M").await), (4, 6, 0));
    let saga_sold = store.reservation(sold).await.unwrap().unwrap();
    assert_eq!(saga_sold.status, ReservationStatus::Reserved);
    assert_eq!(
        saga_sold.lines,
        [Line {
            sku: sku("S"),
            quantity: 4
        }]
    );
    let saga_rejected = store.reservation(rejected).await.unwrap().unwrap();
    assert_eq!(saga_rejected.status, ReservationStatus::Rejected);
    assert_eq!(saga_rejected.rejection.unwrap().short_skus, ["S"]);

    // The saga's answers: one per order, caused by its order.created, about its own items.
    let all = events(&store).await;
    let answers: Vec<(Uuid, Option<Uuid>, String)> = all[before_saga..]
        .iter()
        .filter_map(|e| match &e.payload {
            EventPayload::StockReserved(r) => {
                let items: Vec<String> = r
                    .items
                    .iter()
                    .map(|l| format!("{}x{}", l.quantity, l.sku))
                    .collect();
                Some((r.order_id, e.causation_id, items.join(",")))
            }
            EventPayload::StockRejected(r) => Some((
                r.order_id,
                e.causation_id,
                format!("{} {:?}", r.reason, r.short_skus),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        answers,
        [
            (sold, Some(created[0].event_id), "4xS".to_owned()),
            (released, Some(created[1].event_id), "5xS".to_owned()),
            (
                rejected,
                Some(created[2].event_id),
                "out_of_stock [\"S\"]".to_owned()
            ),
        ]
    );

    let cancels = [order_cancelled(released), order_cancelled(rejected)];
    assert_eq!(
        deliver(&*store, &order_confirmed(sold)).await,
        Outcome::Applied
    );
    for e in &cancels {
        assert_eq!(deliver(&*store, e).await, Outcome::Applied);
    }
    assert_eq!(numbers(&product(&store, "S").await), (6, 0, 4));
    assert_eq!(numbers(&product(&store, "M").await), (4, 6, 0));
    let all = events(&store).await;
    let released_by_saga: Vec<(Uuid, Option<Uuid>, String)> =
        of_type(&all, EventType::StockReleased)
            .iter()
            .map(|e| match &e.payload {
                EventPayload::StockReleased(r) => {
                    let [line] = &r.items[..] else {
                        panic!("{:?}", r.items)
                    };
                    let items = format!("{}x{}", line.quantity, line.sku);
                    (r.order_id, e.causation_id, items)
                }
                _ => unreachable!(),
            })
            .collect();
    assert_eq!(
        released_by_saga,
        [(released, Some(cancels[0].event_id), "5xS".to_owned())]
    );

    // The manual reservations are still the operator's to give back, each once.
    for (order, quantity) in manual {
        let r = store.release(order, None).await.unwrap();
        assert_eq!(r.status, ReservationStatus::Released);
        assert_eq!(
            r.lines,
            [Line {
                sku: sku("M"),
                quantity
            }]
        );
    }
    assert_eq!(numbers(&product(&store, "M").await), (10, 0, 0));
    assert_eq!(numbers(&product(&store, "S").await), (6, 0, 4));
    assert_eq!(
        store.reservation(sold).await.unwrap().unwrap().status,
        ReservationStatus::Sold
    );
}

/// SPEC §7: an order id the saga has seen (an order reserved, sold, released or rejected, or a
/// cancel's tombstone) is the saga's alone. A manual reservation under it is refused with 409
/// `order_belongs_to_saga`, and so is a manual release (409 `reservation_owned_by_saga`);
/// neither changes a number or a reservation, nor emits anything.
async fn an_order_id_the_saga_has_seen_is_refused_by_hand(store: Store) {
    create(&store, "A", 10, 0).await;
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    let [reserved, sold, released, rejected, tombstone] = ids[..] else {
        unreachable!()
    };
    for e in [
        order_created(reserved, &[("A", 1)]),
        order_created(sold, &[("A", 2)]),
        order_confirmed(sold),
        order_created(released, &[("A", 3)]),
        order_cancelled(released),
        order_created(rejected, &[("A", 100)]),
        order_cancelled(tombstone),
    ] {
        assert_eq!(deliver(&*store, &e).await, Outcome::Applied);
    }
    let stock = numbers(&product(&store, "A").await);
    assert_eq!(stock, (7, 1, 2));
    let emitted = events(&store).await.len();
    let mut records = Vec::new();
    for &id in &ids {
        records.push(store.reservation(id).await.unwrap().expect("the saga's"));
    }

    for &id in &ids {
        let refused = store
            .reserve(request(id, &[("A", 1)]), None)
            .await
            .expect_err("the saga's order id");
        assert_eq!(answered(refused), (409, "order_belongs_to_saga".into()));
        let refused = store.release(id, None).await.expect_err("the saga's");
        assert_eq!(answered(refused), (409, "reservation_owned_by_saga".into()));
    }
    assert_eq!(numbers(&product(&store, "A").await), stock);
    assert_eq!(events(&store).await.len(), emitted, "nothing emitted");
    for (&id, record) in ids.iter().zip(&records) {
        assert_eq!(&store.reservation(id).await.unwrap().unwrap(), record);
    }
}

async fn low_stock_is_announced_once_per_crossing(store: Store) {
    create(&store, "L", 10, 5).await;
    let mut orders = Vec::new();
    for quantity in [4, 2, 1] {
        // 6 (not low), 4 (crosses), 3 (still low)
        let order = Uuid::now_v7();
        store
            .reserve(request(order, &[("L", quantity)]), None)
            .await
            .unwrap();
        orders.push(order);
    }
    assert_eq!(numbers(&product(&store, "L").await), (3, 7, 0));
    let low = |all: &[Envelope]| {
        of_type(all, EventType::LowStock)
            .iter()
            .map(|e| match &e.payload {
                EventPayload::LowStock(l) => (l.available, l.low_stock_threshold),
                _ => unreachable!(),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(low(&events(&store).await), [(4, 5)]);

    // Back up to 7 (release of the 4), then down across 5 again.
    store.release(orders[0], None).await.unwrap();
    assert_eq!(numbers(&product(&store, "L").await), (7, 3, 0));
    store
        .reserve(request(Uuid::now_v7(), &[("L", 3)]), None)
        .await
        .unwrap();
    assert_eq!(low(&events(&store).await), [(4, 5), (4, 5)]);
    store.restock(&sku("L"), 1, None).await.unwrap();
    assert_eq!(low(&events(&store).await).len(), 2, "restock never alerts");
}

async fn saga_events_reserve_sell_and_release_once_each(store: Store) {
    create(&store, "S", 10, 0).await;
    let sold = Uuid::now_v7();
    let created = order_created(sold, &[("S", 3)]);
    assert_eq!(deliver(&*store, &created).await, Outcome::Applied);
    assert_eq!(deliver(&*store, &created).await, Outcome::Duplicate);
    assert_eq!(numbers(&product(&store, "S").await), (7, 3, 0));
    let confirmed = order_confirmed(sold);
    assert_eq!(deliver(&*store, &confirmed).await, Outcome::Applied);
    assert_eq!(deliver(&*store, &confirmed).await, Outcome::Duplicate);
    assert_eq!(numbers(&product(&store, "S").await), (7, 0, 3));
    assert_eq!(
        store.reservation(sold).await.unwrap().unwrap().status,
        ReservationStatus::Sold
    );
    // A cancel after the sale changes nothing.
    deliver(&*store, &order_cancelled(sold)).await;
    assert_eq!(numbers(&product(&store, "S").await), (7, 0, 3));

    let released = Uuid::now_v7();
    deliver(&*store, &order_created(released, &[("S", 2)])).await;
    assert_eq!(numbers(&product(&store, "S").await), (5, 2, 3));
    let cancelled = order_cancelled(released);
    assert_eq!(deliver(&*store, &cancelled).await, Outcome::Applied);
    assert_eq!(deliver(&*store, &cancelled).await, Outcome::Duplicate);
    assert_eq!(numbers(&product(&store, "S").await), (7, 0, 3));
    assert_eq!(
        store.reservation(released).await.unwrap().unwrap().status,
        ReservationStatus::Released
    );

    let rejected = Uuid::now_v7();
    let too_many = order_created(rejected, &[("S", 8)]);
    deliver(&*store, &too_many).await;
    assert_eq!(numbers(&product(&store, "S").await), (7, 0, 3));

    let all = events(&store).await;
    let reserved = of_type(&all, EventType::StockReserved);
    assert_eq!(reserved.len(), 2);
    assert_eq!(reserved[0].causation_id, Some(created.event_id));
    assert_eq!(reserved[0].correlation_id, sold.to_string());
    assert_eq!(
        reserved[0].traceparent.unwrap().trace_id(),
        created.traceparent.unwrap().trace_id()
    );
    let releases = of_type(&all, EventType::StockReleased);
    assert_eq!(releases.len(), 1);
    assert_eq!(releases[0].causation_id, Some(cancelled.event_id));
    let EventPayload::StockReleased(r) = &releases[0].payload else {
        unreachable!()
    };
    assert_eq!((r.order_id, r.items[0].quantity), (released, 2));
    let rejections = of_type(&all, EventType::StockRejected);
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].causation_id, Some(too_many.event_id));
    // Creation, reserve, sale, reserve, release: five changes of the numbers.
    let updates = of_type(&all, EventType::StockUpdated);
    assert_eq!(updates.len(), 5);
    assert_eq!(updates[2].causation_id, Some(confirmed.event_id));
}

/// The store applies the command the saga made of an event, not its own reading of the event;
/// a manual command is refused, leaving no inbox record, so the event still applies after.
async fn the_saga_step_applies_the_command_it_is_given(store: Store) {
    create(&store, "C", 10, 0).await;
    let order = Uuid::now_v7();
    let created = order_created(order, &[("C", 9)]);
    let by_hand = Command::ReserveByHand(request(order, &[("C", 1)]));
    assert!(matches!(
        store.apply(&created, by_hand).await,
        Err(HandlerError::Permanent(_))
    ));
    assert_eq!(store.reservation(order).await.unwrap(), None);
    assert_eq!(numbers(&product(&store, "C").await), (10, 0, 0));

    // The command given, here one line of the order's, is what is reserved.
    let given = Command::Reserve(request(order, &[("C", 4)]));
    assert_eq!(
        store.apply(&created, given.clone()).await.unwrap(),
        Outcome::Applied
    );
    assert_eq!(
        store.apply(&created, given).await.unwrap(),
        Outcome::Duplicate
    );
    assert_eq!(numbers(&product(&store, "C").await), (6, 4, 0));
    let all = events(&store).await;
    let reserved = of_type(&all, EventType::StockReserved);
    assert_eq!(reserved.len(), 1);
    assert_eq!(reserved[0].causation_id, Some(created.event_id));
}

async fn a_cancel_before_its_order_leaves_a_tombstone(store: Store) {
    create(&store, "T", 4, 0).await;
    let order = Uuid::now_v7();
    assert_eq!(
        deliver(&*store, &order_cancelled(order)).await,
        Outcome::Applied
    );
    assert_eq!(
        store.reservation(order).await.unwrap().unwrap().status,
        ReservationStatus::Tombstone
    );
    let before = events(&store).await.len();
    assert_eq!(
        deliver(&*store, &order_created(order, &[("T", 2)])).await,
        Outcome::Applied
    );
    assert_eq!(numbers(&product(&store, "T").await), (4, 0, 0));
    assert_eq!(events(&store).await.len(), before, "nothing emitted");
    // The tombstone's order id is the saga's: a manual reservation under it is refused.
    assert!(matches!(
        store.reserve(request(order, &[("T", 1)]), None).await,
        Err(StoreError::OrderBelongsToSaga(_))
    ));
    assert_eq!(numbers(&product(&store, "T").await), (4, 0, 0));
    // A confirm for an order never reserved here is acknowledged and ignored.
    let stranger = Uuid::now_v7();
    assert_eq!(
        deliver(&*store, &order_confirmed(stranger)).await,
        Outcome::Applied
    );
    assert!(store.reservation(stranger).await.unwrap().is_none());
}

async fn concurrent_reservations_never_oversell(store: Store) {
    create(&store, "HOT", 10, 0).await;
    let attempts = (0..50).map(|_| {
        let store = store.clone();
        async move {
            store
                .reserve(request(Uuid::now_v7(), &[("HOT", 1)]), None)
                .await
                .unwrap()
                .status
        }
    });
    let statuses = join_all(attempts).await;
    let reserved = statuses
        .iter()
        .filter(|s| **s == ReservationStatus::Reserved)
        .count();
    let rejected = statuses
        .iter()
        .filter(|s| **s == ReservationStatus::Rejected)
        .count();
    assert_eq!((reserved, rejected), (10, 40));
    assert_eq!(numbers(&product(&store, "HOT").await), (0, 10, 0));
    let all = events(&store).await;
    assert_eq!(of_type(&all, EventType::StockReserved).len(), 10);
    assert_eq!(of_type(&all, EventType::StockRejected).len(), 40);
}

async fn concurrent_saga_reservations_never_oversell(store: Store) {
    create(&store, "HOT", 10, 0).await;
    let orders: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    let deliveries = orders.iter().map(|&order| {
        let store = store.clone();
        async move { deliver(&*store, &order_created(order, &[("HOT", 1)])).await }
    });
    let outcomes = join_all(deliveries).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Applied));
    assert_eq!(numbers(&product(&store, "HOT").await), (0, 10, 0));
    let mut reserved = 0;
    for order in &orders {
        match store.reservation(*order).await.unwrap().unwrap().status {
            ReservationStatus::Reserved => reserved += 1,
            ReservationStatus::Rejected => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reserved, 10);
}

/// Every event twice, and in the worst order: cancels before their orders, confirms and
/// cancels racing creations. At the end nothing is reserved and the books balance.
async fn duplicates_and_the_worst_order_keep_the_books_balanced(store: Store) {
    create(&store, "X", 20, 3).await;
    create(&store, "Y", 5, 0).await;
    let confirmed: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let cancelled_late: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let cancelled_first: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let lines = [("X", 2), ("Y", 1)];

    // Cancels that overtake their orders, each delivered twice.
    for &o in &cancelled_first {
        let cancel = order_cancelled(o);
        deliver(&*store, &cancel).await;
        deliver(&*store, &cancel).await;
    }
    // All creations, twice each, concurrently.
    let creations: Vec<Envelope> = confirmed
        .iter()
        .chain(&cancelled_late)
        .chain(&cancelled_first)
        .map(|&o| order_created(o, &lines))
        .collect();
    join_all(
        creations
            .iter()
            .chain(&creations)
            .map(|e| deliver(&*store, e)),
    )
    .await;
    // Outcomes, twice each, concurrently.
    let outcomes: Vec<Envelope> = confirmed
        .iter()
        .map(|&o| order_confirmed(o))
        .chain(cancelled_late.iter().map(|&o| order_cancelled(o)))
        .collect();
    join_all(
        outcomes
            .iter()
            .chain(&outcomes)
            .map(|e| deliver(&*store, e)),
    )
    .await;

    let x = product(&store, "X").await;
    let y = product(&store, "Y").await;
    // Y has 5 units for 8 orders of 1: the first 5 creations processed win; count them.
    let mut sold_orders = 0;
    for &o in &confirmed {
        let r = store.reservation(o).await.unwrap().unwrap();
        match r.status {
            ReservationStatus::Sold => sold_orders += 1,
            ReservationStatus::Rejected => {}
            other => panic!("confirmed order in {other:?}"),
        }
    }
    for &o in &cancelled_first {
        let r = store.reservation(o).await.unwrap().unwrap();
        assert_eq!(r.status, ReservationStatus::Tombstone);
    }
    for &o in &cancelled_late {
        let r = store.reservation(o).await.unwrap().unwrap();
        assert!(matches!(
            r.status,
            ReservationStatus::Released | ReservationStatus::Rejected
        ));
    }
    assert_eq!((x.reserved, y.reserved), (0, 0));
    assert_eq!(x.sold, 2 * sold_orders);
    assert_eq!(y.sold, sold_orders);
    assert_eq!((x.available, y.available), (20 - x.sold, 5 - y.sold));

    let all = events(&store).await;
    let reserved_orders: HashSet<Uuid> = of_type(&all, EventType::StockReserved)
        .iter()
        .map(|e| match &e.payload {
            EventPayload::StockReserved(r) => r.order_id,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        of_type(&all, EventType::StockReserved).len(),
        reserved_orders.len(),
        "one stock.reserved per order"
    );
    assert!(cancelled_first.iter().all(|o| !reserved_orders.contains(o)));
    assert_eq!(
        of_type(&all, EventType::StockReleased).len(),
        reserved_orders.len() - sold_orders as usize
    );
}

// ---------------------------------------------------------------------------------------------
// The adapters.

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        /// One test per case on PostgreSQL, each on a fresh database.
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::postgres_store().await).await
                }
            )*
        }

        /// One test per case on MongoDB, each on a fresh database.
        mod mongodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let (store, db) = super::mongodb_store().await;
                    super::$case(store).await;
                    db.drop().await.expect("dropping the test database");
                }
            )*
        }
    };
}

contract!(
    creating_restocking_and_reading_a_product,
    a_reservation_is_all_or_nothing_and_names_what_is_short,
    a_reservation_is_idempotent_per_order,
    a_manual_reservation_is_released_once_and_a_saga_one_is_refused,
    a_manual_reservation_is_never_adopted_by_the_saga,
    an_order_id_the_saga_has_seen_is_refused_by_hand,
    low_stock_is_announced_once_per_crossing,
    saga_events_reserve_sell_and_release_once_each,
    the_saga_step_applies_the_command_it_is_given,
    a_cancel_before_its_order_leaves_a_tombstone,
    concurrent_reservations_never_oversell,
    concurrent_saga_reservations_never_oversell,
    duplicates_and_the_worst_order_keep_the_books_balanced,
);

/// Manual reservations that an earlier version kept among the saga's (`manual: true` in
/// `reservations`) move to their own collection when the store opens: the saga no longer sees
/// them, and they stay the operator's to release. Opening again moves nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_manual_reservations_kept_among_the_sagas_move_to_their_own() {
    use ::mongodb::bson::{doc, Document};
    let (store, db) = mongodb_store().await;
    create(&store, "A", 5, 0).await;
    let order = Uuid::now_v7();
    store
        .reserve(request(order, &[("A", 2)]), None)
        .await
        .unwrap();
    let saga = db.collection::<Document>("reservations");
    let manual = db.collection::<Document>("manual_reservations");
    // Back where an earlier version kept it.
    let mut legacy = manual
        .find_one_and_delete(doc! { "_id": order.to_string() })
        .await
        .unwrap()
        .expect("the manual reservation");
    legacy.insert("manual", true);
    saga.insert_one(legacy).await.unwrap();
    assert!(store.reservation(order).await.unwrap().is_some());

    let reopened: Store = Arc::new(MongoStore::open(db.clone()).await.unwrap());
    assert_eq!(reopened.reservation(order).await.unwrap(), None);
    MongoStore::open(db.clone()).await.unwrap();
    assert_eq!(saga.count_documents(doc! {}).await.unwrap(), 0);
    assert_eq!(manual.count_documents(doc! {}).await.unwrap(), 1);
    let released = reopened.release(order, None).await.unwrap();
    assert_eq!(released.status, ReservationStatus::Released);
    assert_eq!(numbers(&product(&reopened, "A").await), (5, 0, 0));
    db.drop().await.expect("dropping the test database");
}

async fn postgres_store() -> Store {
    Arc::new(
        PgStore::connect(&PgSettings::at(fresh_database_url("inventory").await))
            .await
            .expect("the PostgreSQL store opens"),
    )
}

/// A store on a fresh database of the MongoDB test server, and that database, to drop after.
async fn mongodb_store() -> (Store, ::mongodb::Database) {
    let db = fresh_mongo_database().await;
    let store = MongoStore::open(db.clone())
        .await
        .expect("the MongoDB store opens");
    (Arc::new(store), db)
}
