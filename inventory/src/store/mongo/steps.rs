//! The work of each step inside a MongoDB transaction: read the order's reservation (in its
//! book's collection) and its products in the transaction's snapshot, decide, write with
//! guarded updates, enqueue. A manual step also reads whether the saga's collection has the
//! order id; the saga's steps never read the manual collection.
//!
//! Two transactions that touch one document conflict: the later writer fails with a write
//! conflict (`TransientTransactionError`) and runs again from a new snapshot. On top of that,
//! every stock write is a conditional `$inc` that cannot take a number below zero
//! (`{available: {$gte: qty}}` for a reservation) and is checked against the numbers decided, so
//! even a missed conflict could never oversell: it fails the step instead.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::{ClientSession, Database};
use saga_messaging::mongo::enqueue;

use super::documents::{
    db_count, reservations_of, ProductDoc, ReservationDoc, PRODUCTS, RESERVATIONS,
};
use super::transaction::{is_duplicate_key, is_transient, StepError};
use crate::domain::{
    change_events, decide, skus_to_load, Book, Command, Decision, Product, Repeats, Reservation,
    SagaRecord, Sku,
};
use crate::store::{Cause, StoreError};

/// One order's step (saga event or `POST /stock/reserve`).
#[tracing::instrument(level = "debug", skip_all, fields(order_id = %command.order_id()))]
pub async fn apply(
    session: &mut ClientSession,
    db: &Database,
    command: &Command,
    cause: &Cause,
    repeats: Repeats,
) -> Result<Decision, StepError> {
    let order_id = command.order_id();
    let book = command.book();
    let existing = db
        .collection::<ReservationDoc>(reservations_of(book))
        .find_one(doc! { "_id": order_id.to_string() })
        .session(&mut *session)
        .await?
        .map(ReservationDoc::into_domain)
        .transpose()?;
    let saga = match book {
        Book::Saga => SagaRecord::of(existing.as_ref()),
        Book::Manual => saga_record(session, db, order_id).await?,
    };
    let skus = skus_to_load(command, existing.as_ref());
    let products = load_products(session, db, &skus).await?;
    let decision =
        decide(command, existing.as_ref(), saga, &products, repeats).map_err(StoreError::from)?;
    for change in &decision.products {
        write_numbers(session, db, &change.before, &change.after).await?;
    }
    if decision.reservation_changed {
        if let Some(reservation) = &decision.reservation {
            write_reservation(session, db, book, reservation, existing.as_ref()).await?;
        }
    }
    enqueue(session, db, &cause.envelopes(decision.events.clone())).await?;
    tracing::info!(%order_id, note = decision.note, "reservation step");
    Ok(decision)
}

/// Whether the saga's collection has the order id, read in the transaction's snapshot.
async fn saga_record(
    session: &mut ClientSession,
    db: &Database,
    order_id: uuid::Uuid,
) -> Result<SagaRecord, StepError> {
    let found = db
        .collection::<Document>(RESERVATIONS)
        .find_one(doc! { "_id": order_id.to_string() })
        .projection(doc! { "_id": 1 })
        .session(&mut *session)
        .await?;
    Ok(if found.is_some() {
        SagaRecord::Present
    } else {
        SagaRecord::Absent
    })
}

/// Inserts a new product with its events. [`StoreError::SkuExists`] if the SKU is taken.
pub async fn create(
    session: &mut ClientSession,
    db: &Database,
    product: &Product,
    cause: &Cause,
) -> Result<(), StepError> {
    let inserted = db
        .collection::<ProductDoc>(PRODUCTS)
        .insert_one(ProductDoc::new(product))
        .session(&mut *session)
        .await;
    match inserted {
        Ok(_) => {}
        Err(e) if !is_transient(&e) && is_duplicate_key(&e) => {
            return Err(StoreError::SkuExists(product.sku.clone()).into())
        }
        Err(e) => return Err(e.into()),
    }
    enqueue(session, db, &cause.envelopes(change_events(None, product))).await?;
    Ok(())
}

/// Adds `quantity` to a product's available stock, with its events.
pub async fn restock(
    session: &mut ClientSession,
    db: &Database,
    sku: &Sku,
    quantity: u64,
    cause: &Cause,
) -> Result<Product, StepError> {
    let mut products = load_products(session, db, std::slice::from_ref(sku)).await?;
    let before = products
        .remove(sku)
        .ok_or_else(|| StoreError::SkuNotFound(sku.clone()))?;
    let after = before.restock(quantity)?;
    write_numbers(session, db, &before, &after).await?;
    enqueue(
        session,
        db,
        &cause.envelopes(change_events(Some(&before), &after)),
    )
    .await?;
    Ok(after)
}

async fn load_products(
    session: &mut ClientSession,
    db: &Database,
    skus: &[Sku],
) -> Result<BTreeMap<Sku, Product>, StepError> {
    if skus.is_empty() {
        return Ok(BTreeMap::new());
    }
    let ids: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let mut cursor = db
        .collection::<ProductDoc>(PRODUCTS)
        .find(doc! { "_id": { "$in": ids } })
        .session(&mut *session)
        .await?;
    let docs: Vec<ProductDoc> = cursor.stream(&mut *session).try_collect().await?;
    docs.into_iter()
        .map(|d| {
            let p = d.into_domain()?;
            Ok((p.sku.clone(), p))
        })
        .collect()
}

/// The guarded update that takes a product from `before` to `after`: an `$inc` of the
/// differences, matching only if every number it lowers is at least as large as the amount
/// taken, and checked against `after` once applied.
pub fn numbers_update(before: &Product, after: &Product) -> (Document, Document) {
    let delta = |a: u64, b: u64| db_count(a) - db_count(b);
    let deltas = [
        ("available", delta(after.available, before.available)),
        ("reserved", delta(after.reserved, before.reserved)),
        ("sold", delta(after.sold, before.sold)),
        ("restocked", delta(after.restocked, before.restocked)),
    ];
    let mut filter = doc! { "_id": after.sku.as_str() };
    let mut inc = Document::new();
    for (field, d) in deltas {
        if d < 0 {
            filter.insert(field, doc! { "$gte": -d });
        }
        inc.insert(field, d);
    }
    let update = doc! { "$inc": inc, "$currentDate": { "updated_at": true } };
    (filter, update)
}

async fn write_numbers(
    session: &mut ClientSession,
    db: &Database,
    before: &Product,
    after: &Product,
) -> Result<(), StepError> {
    let (filter, update) = numbers_update(before, after);
    let written = db
        .collection::<ProductDoc>(PRODUCTS)
        .find_one_and_update(filter, update)
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?;
    let Some(written) = written else {
        return Err(StepError::Conflict(format!(
            "the stock of {} no longer covers the change",
            after.sku
        )));
    };
    let written = written.into_domain()?;
    if (
        written.available,
        written.reserved,
        written.sold,
        written.restocked,
    ) != (after.available, after.reserved, after.sold, after.restocked)
    {
        return Err(StepError::Conflict(format!(
            "the stock of {} changed since it was read",
            after.sku
        )));
    }
    Ok(())
}

/// Inserts the order's reservation into its book's collection, or replaces the one read if it
/// is still as read.
async fn write_reservation(
    session: &mut ClientSession,
    db: &Database,
    book: Book,
    reservation: &Reservation,
    existing: Option<&Reservation>,
) -> Result<(), StepError> {
    let coll = db.collection::<ReservationDoc>(reservations_of(book));
    let document = ReservationDoc::new(reservation);
    match existing {
        None => match coll.insert_one(&document).session(&mut *session).await {
            Ok(_) => Ok(()),
            // Written by a transaction that committed after this one's snapshot.
            Err(e) if !is_transient(&e) && is_duplicate_key(&e) => {
                Err(StepError::Conflict(format!(
                    "reservation of {} written concurrently",
                    reservation.order_id
                )))
            }
            Err(e) => Err(e.into()),
        },
        Some(old) => {
            let replaced = coll
                .replace_one(
                    doc! { "_id": &document.id, "status": old.status.as_str() },
                    &document,
                )
                .session(&mut *session)
                .await?;
            if replaced.matched_count != 1 {
                return Err(StepError::Conflict(format!(
                    "reservation of {} changed concurrently",
                    reservation.order_id
                )));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewProduct, ProductName};

    #[test]
    fn a_reservation_update_is_guarded_by_the_stock_it_takes() {
        let before = Product::new(NewProduct {
            sku: Sku::parse("a").unwrap(),
            name: ProductName::parse("A").unwrap(),
            price: "1".parse().unwrap(),
            quantity: 10,
            low_stock_threshold: 0,
        });
        let after = before.reserve(3).unwrap();
        let (filter, update) = numbers_update(&before, &after);
        assert_eq!(filter, doc! { "_id": "a", "available": { "$gte": 3_i64 } });
        assert_eq!(
            update.get_document("$inc").unwrap(),
            &doc! { "available": -3_i64, "reserved": 3_i64, "sold": 0_i64, "restocked": 0_i64 }
        );
        let sold = after.sell(2).unwrap();
        let (filter, _) = numbers_update(&after, &sold);
        assert_eq!(filter, doc! { "_id": "a", "reserved": { "$gte": 2_i64 } });
        let restocked = after.restock(5).unwrap();
        let (filter, _) = numbers_update(&after, &restocked);
        assert_eq!(filter, doc! { "_id": "a" });
    }
}
