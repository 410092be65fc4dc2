//! A product and its stock numbers, and the events a change of those numbers emits.
//!
//! Every unit a product ever received (`initial + restocked`) is in exactly one of `available`,
//! `reserved` or `sold`; each operation here keeps that so, and refuses to take a number below
//! zero.

use saga_contracts::events::{LowStock, StockUpdated};
use saga_contracts::{EventPayload, Money, Sku};

use super::quantity::MAX_TOTAL;

/// A product's name: trimmed, not empty, at most 200 characters, no control characters.
pub type ProductName = saga_contracts::Name;

/// A product to create, parsed from a request.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: ProductName,
    pub price: Money,
    pub quantity: u64,
    pub low_stock_threshold: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub sku: Sku,
    pub name: ProductName,
    pub price: Money,
    pub available: u64,
    pub reserved: u64,
    pub sold: u64,
    pub low_stock_threshold: u64,
    /// The stock the product was created with.
    pub initial: u64,
    /// The sum of all restocks since.
    pub restocked: u64,
}

/// A change the stock numbers cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("the product's total stock would exceed {MAX_TOTAL}")]
    TooLarge,
    #[error("inconsistent stock of {sku}: {detail}")]
    Inconsistent { sku: String, detail: String },
}

impl Product {
    pub fn new(new: NewProduct) -> Product {
        Product {
            sku: new.sku,
            name: new.name,
            price: new.price,
            available: new.quantity,
            reserved: 0,
            sold: 0,
            low_stock_threshold: new.low_stock_threshold,
            initial: new.quantity,
            restocked: 0,
        }
    }

    /// `initial + restocked = available + reserved + sold` (SPEC §5.2).
    pub fn is_consistent(&self) -> bool {
        u128::from(self.initial) + u128::from(self.restocked)
            == u128::from(self.available) + u128::from(self.reserved) + u128::from(self.sold)
    }

    /// Below its threshold: the state `low.stock` announces.
    pub fn is_low(&self) -> bool {
        self.available < self.low_stock_threshold
    }

    /// `quantity` more units available.
    pub fn restock(&self, quantity: u64) -> Result<Product, StockError> {
        self.initial
            .checked_add(self.restocked)
            .and_then(|t| t.checked_add(quantity))
            .filter(|&t| t <= MAX_TOTAL)
            .ok_or(StockError::TooLarge)?;
        Ok(Product {
            available: self.available + quantity,
            restocked: self.restocked + quantity,
            ..self.clone()
        })
    }

    /// Moves `quantity` from available to reserved; `None` if fewer are available.
    pub fn reserve(&self, quantity: u64) -> Option<Product> {
        let available = self.available.checked_sub(quantity)?;
        Some(Product {
            available,
            reserved: self.reserved + quantity,
            ..self.clone()
        })
    }

    /// Moves `quantity` from reserved back to available.
    pub fn release(&self, quantity: u64) -> Result<Product, StockError> {
        let reserved = self.take_reserved(quantity)?;
        Ok(Product {
            available: self.available + quantity,
            reserved,
            ..self.clone()
        })
    }

    /// Moves `quantity` from reserved to sold.
    pub fn sell(&self, quantity: u64) -> Result<Product, StockError> {
        let reserved = self.take_reserved(quantity)?;
        Ok(Product {
            reserved,
            sold: self.sold + quantity,
            ..self.clone()
        })
    }

    fn take_reserved(&self, quantity: u64) -> Result<u64, StockError> {
        self.reserved
            .checked_sub(quantity)
            .ok_or_else(|| StockError::Inconsistent {
                sku: self.sku.to_string(),
                detail: format!("{quantity} to take from {} reserved", self.reserved),
            })
    }

    /// The product's current numbers, as `stock.updated` carries them.
    pub fn stock_updated(&self) -> StockUpdated {
        StockUpdated {
            sku: self.sku.to_string(),
            name: self.name.as_str().to_owned(),
            price: self.price,
            available: self.available,
            reserved: self.reserved,
            sold: self.sold,
            low_stock_threshold: self.low_stock_threshold,
        }
    }
}

/// The events of a change of a product's numbers (`before` is `None` when it was created):
/// always `stock.updated` with the new numbers; `low.stock` too when `available` went from at
/// or above the threshold to below it (a product created below its threshold counts as such a
/// crossing), so one alert per crossing.
pub fn change_events(before: Option<&Product>, after: &Product) -> Vec<EventPayload> {
    let mut events = vec![EventPayload::StockUpdated(after.stock_updated())];
    let was_low = before.is_some_and(Product::is_low);
    if after.is_low() && !was_low {
        events.push(EventPayload::LowStock(LowStock {
            sku: after.sku.to_string(),
            name: after.name.as_str().to_owned(),
            available: after.available,
            low_stock_threshold: after.low_stock_threshold,
        }));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use saga_contracts::EventType;

    fn product(available: u64, threshold: u64) -> Product {
        Product::new(NewProduct {
            sku: Sku::parse("W-1").unwrap(),
            name: ProductName::parse("Widget").unwrap(),
            price: "2.50".parse().unwrap(),
            quantity: available,
            low_stock_threshold: threshold,
        })
    }

    fn types(events: &[EventPayload]) -> Vec<EventType> {
        events.iter().map(EventPayload::event_type).collect()
    }

    #[test]
    fn every_operation_keeps_the_books_balanced() {
        let p = product(10, 0);
        let p = p.reserve(4).unwrap();
        assert_eq!((p.available, p.reserved, p.sold), (6, 4, 0));
        let p = p.sell(3).unwrap();
        assert_eq!((p.available, p.reserved, p.sold), (6, 1, 3));
        let p = p.release(1).unwrap();
        assert_eq!((p.available, p.reserved, p.sold), (7, 0, 3));
        let p = p.restock(5).unwrap();
        assert_eq!((p.available, p.initial, p.restocked), (12, 10, 5));
        assert!(p.is_consistent());
    }

    #[test]
    fn nothing_goes_below_zero() {
        let p = product(2, 0);
        assert_eq!(p.reserve(3), None);
        assert!(p.reserve(2).unwrap().reserve(1).is_none());
        assert!(matches!(p.release(1), Err(StockError::Inconsistent { .. })));
        assert!(matches!(p.sell(1), Err(StockError::Inconsistent { .. })));
    }

    #[test]
    fn restock_is_bounded() {
        let p = product(MAX_TOTAL - 1, 0);
        assert!(p.restock(1).is_ok());
        assert_eq!(p.restock(2), Err(StockError::TooLarge));
        assert_eq!(p.restock(u64::MAX), Err(StockError::TooLarge));
    }

    #[test]
    fn low_stock_is_emitted_once_per_downward_crossing() {
        let p = product(10, 5);
        let q = p.reserve(5).unwrap(); // 5 left: not below 5
        assert_eq!(
            types(&change_events(Some(&p), &q)),
            [EventType::StockUpdated]
        );
        let r = q.reserve(1).unwrap(); // 4: crosses
        let events = change_events(Some(&q), &r);
        assert_eq!(
            types(&events),
            [EventType::StockUpdated, EventType::LowStock]
        );
        let EventPayload::LowStock(low) = &events[1] else {
            unreachable!()
        };
        assert_eq!((low.available, low.low_stock_threshold), (4, 5));
        let s = r.reserve(1).unwrap(); // still low: no second alert
        assert_eq!(
            types(&change_events(Some(&r), &s)),
            [EventType::StockUpdated]
        );
        let t = s.release(2).unwrap(); // back to 6
        assert_eq!(
            types(&change_events(Some(&s), &t)),
            [EventType::StockUpdated]
        );
        let u = t.reserve(2).unwrap(); // crosses again
        assert_eq!(
            types(&change_events(Some(&t), &u)),
            [EventType::StockUpdated, EventType::LowStock]
        );
    }

    #[test]
    fn creation_below_the_threshold_alerts_and_a_zero_threshold_never_does() {
        let low = product(3, 5);
        assert_eq!(
            types(&change_events(None, &low)),
            [EventType::StockUpdated, EventType::LowStock]
        );
        let empty = product(0, 0);
        assert_eq!(
            types(&change_events(None, &empty)),
            [EventType::StockUpdated]
        );
    }

    #[test]
    fn stock_updated_carries_the_full_numbers() {
        let p = product(10, 3).reserve(2).unwrap();
        let u = p.stock_updated();
        assert_eq!(u.sku, "W-1");
        assert_eq!(u.name, "Widget");
        assert_eq!(u.price.to_string(), "2.50");
        assert_eq!((u.available, u.reserved, u.sold), (8, 2, 0));
        assert_eq!(u.low_stock_threshold, 3);
    }
}
