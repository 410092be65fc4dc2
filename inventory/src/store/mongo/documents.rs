//! The MongoDB documents of products and reservations, and their conversion to the domain.
//!
//! - `products`: `{_id: sku, name, price: "12.50", available, reserved, sold,
//!   low_stock_threshold, initial, restocked, created_at, updated_at}`; counts are Int64, the
//!   price a decimal string (exact, as on the wire).
//! - `reservations`: the saga's, `{_id: order_id, order_id, status, items: [{sku, quantity}],
//!   reason, short_skus, updated_at}`; one per order (`_id`, and a unique index on
//!   `order_id`).
//! - `manual_reservations`: the manual ones (`POST /stock/reserve`), the same documents, one per
//!   order id. An order id may have one in each collection; each path reads and writes its own
//!   ([`Book`]).

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Book, Line, Money, Product, ProductName, RejectReason, Rejection, Reservation,
    ReservationStatus, Sku,
};
use crate::store::corrupt;

pub const PRODUCTS: &str = "products";
pub const RESERVATIONS: &str = "reservations";
pub const MANUAL_RESERVATIONS: &str = "manual_reservations";

/// The collection of a book's reservations.
pub fn reservations_of(book: Book) -> &'static str {
    match book {
        Book::Saga => RESERVATIONS,
        Book::Manual => MANUAL_RESERVATIONS,
    }
}
/// The runtime's outbox collection (layout documented in `saga_messaging::mongo`).
pub use saga_messaging::mongo::OUTBOX;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductDoc {
    #[serde(rename = "_id")]
    pub sku: String,
    pub name: String,
    pub price: String,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub low_stock_threshold: i64,
    pub initial: i64,
    pub restocked: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A count as stored; the domain keeps every count far below `i64::MAX`.
pub fn db_count(v: u64) -> i64 {
    i64::try_from(v).expect("counts are bounded far below i64::MAX")
}

impl ProductDoc {
    pub fn new(p: &Product) -> ProductDoc {
        let now = DateTime::now();
        ProductDoc {
            sku: p.sku.to_string(),
            name: p.name.as_str().to_owned(),
            price: p.price.to_string(),
            available: db_count(p.available),
            reserved: db_count(p.reserved),
            sold: db_count(p.sold),
            low_stock_threshold: db_count(p.low_stock_threshold),
            initial: db_count(p.initial),
            restocked: db_count(p.restocked),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn into_domain(self) -> anyhow::Result<Product> {
        let sku = self.sku;
        let count =
            |v: i64| u64::try_from(v).map_err(|_| corrupt("product", format!("{sku}: {v}")));
        Ok(Product {
            name: ProductName::parse(&self.name).map_err(|e| corrupt("product", e))?,
            price: self
                .price
                .parse::<Money>()
                .map_err(|e| corrupt("product", e))?,
            available: count(self.available)?,
            reserved: count(self.reserved)?,
            sold: count(self.sold)?,
            low_stock_threshold: count(self.low_stock_threshold)?,
            initial: count(self.initial)?,
            restocked: count(self.restocked)?,
            sku: Sku::parse(&sku).map_err(|e| corrupt("product", e))?,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineDoc {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReservationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub order_id: String,
    pub status: String,
    pub items: Vec<LineDoc>,
    pub reason: Option<String>,
    pub short_skus: Vec<String>,
    pub updated_at: DateTime,
}

impl ReservationDoc {
    pub fn new(r: &Reservation) -> ReservationDoc {
        let (reason, short_skus) = match &r.rejection {
            Some(rej) => (Some(rej.reason.as_str().to_owned()), rej.short_skus.clone()),
            None => (None, Vec::new()),
        };
        ReservationDoc {
            id: r.order_id.to_string(),
            order_id: r.order_id.to_string(),
            status: r.status.as_str().to_owned(),
            items: r
                .lines
                .iter()
                .map(|l| LineDoc {
                    sku: l.sku.to_string(),
                    quantity: i64::from(l.quantity),
                })
                .collect(),
            reason,
            short_skus,
            updated_at: DateTime::now(),
        }
    }

    pub fn into_domain(self) -> anyhow::Result<Reservation> {
        let id = self.id;
        let bad = |detail: String| corrupt("reservation", format!("{id}: {detail}"));
        let order_id = id.parse().map_err(|_| bad("not a uuid".into()))?;
        let status =
            ReservationStatus::parse(&self.status).ok_or_else(|| bad(self.status.clone()))?;
        let lines = self
            .items
            .into_iter()
            .map(|l| {
                Ok(Line {
                    sku: Sku::parse(&l.sku).map_err(&bad)?,
                    quantity: u32::try_from(l.quantity).map_err(|e| bad(e.to_string()))?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rejection = match self.reason {
            Some(reason) => Some(Rejection {
                reason: RejectReason::parse(&reason).ok_or_else(|| bad(reason.clone()))?,
                short_skus: self.short_skus,
            }),
            None => None,
        };
        Ok(Reservation {
            order_id,
            status,
            lines,
            rejection,
        })
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{from_document, to_document};
    use uuid::Uuid;

    use super::*;
    use crate::domain::NewProduct;

    #[test]
    fn a_product_round_trips_through_bson() {
        let p = Product::new(NewProduct {
            sku: Sku::parse("W-1").unwrap(),
            name: ProductName::parse("Widget").unwrap(),
            price: "12.5".parse().unwrap(),
            quantity: 7,
            low_stock_threshold: 2,
        })
        .reserve(3)
        .unwrap();
        let stored = to_document(&ProductDoc::new(&p)).unwrap();
        assert_eq!(stored.get_str("_id").unwrap(), "W-1");
        assert_eq!(stored.get_str("price").unwrap(), "12.50");
        assert_eq!(stored.get_i64("available").unwrap(), 4);
        let back: ProductDoc = from_document(stored).unwrap();
        assert_eq!(back.into_domain().unwrap(), p);
    }

    #[test]
    fn a_reservation_round_trips_through_bson() {
        let r = Reservation {
            order_id: Uuid::now_v7(),
            status: ReservationStatus::Rejected,
            lines: vec![Line {
                sku: Sku::parse("a").unwrap(),
                quantity: 2,
            }],
            rejection: Some(Rejection {
                reason: RejectReason::OutOfStock,
                short_skus: vec!["a".into()],
            }),
        };
        let stored = to_document(&ReservationDoc::new(&r)).unwrap();
        assert_eq!(stored.get_str("_id").unwrap(), r.order_id.to_string());
        assert_eq!(stored.get_str("status").unwrap(), "REJECTED");
        let back: ReservationDoc = from_document(stored).unwrap();
        assert_eq!(back.into_domain().unwrap(), r);
    }
}
