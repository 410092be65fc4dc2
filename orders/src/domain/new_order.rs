//! An order as requested, before pricing: the customer and 1..=100 lines of distinct SKUs,
//! each with a valid quantity. Each rule failing has its own stable error code.

use std::collections::{HashMap, HashSet};

use saga_contracts::events::OrderLine;
use saga_contracts::Money;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::quantity::Quantity;

pub const MAX_LINES: usize = 100;

/// A line as requested: the SKU exactly as sent, and its quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestedLine {
    pub sku: String,
    pub quantity: Quantity,
}

/// A validated order request. Its JSON form is the normalized request that an
/// `Idempotency-Key` is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrder {
    pub customer_id: Uuid,
    pub items: Vec<RequestedLine>,
}

/// An order priced from the catalogue: its lines with their unit prices, and the total.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedOrder {
    pub customer_id: Uuid,
    pub lines: Vec<OrderLine>,
    pub total: Money,
}

/// Why a request is not a valid order; `code()` is the API's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRequestError {
    #[error("no customer {0:?}")]
    UnknownCustomer(String),
    #[error("an order needs at least one line")]
    Empty,
    #[error("an order has at most {MAX_LINES} lines, this one has {0}")]
    TooManyItems(usize),
    #[error("line {line}: {message}")]
    InvalidQuantity { line: usize, message: String },
    #[error("SKU {0:?} appears on more than one line; put its whole quantity on one line")]
    DuplicateSku(String),
    #[error("unknown SKU(s): {}", .0.join(", "))]
    UnknownSku(Vec<String>),
    #[error("the order total exceeds the largest amount the system accepts")]
    TotalTooLarge,
}

impl OrderRequestError {
    pub fn code(&self) -> &'static str {
        match self {
            OrderRequestError::UnknownCustomer(_) => "unknown_customer",
            OrderRequestError::Empty => "empty_order",
            OrderRequestError::TooManyItems(_) => "too_many_items",
            OrderRequestError::InvalidQuantity { .. } => "invalid_quantity",
            OrderRequestError::DuplicateSku(_) => "duplicate_sku",
            OrderRequestError::UnknownSku(_) => "unknown_sku",
            OrderRequestError::TotalTooLarge => "order_too_large",
        }
    }
}

impl NewOrder {
    /// Validates the shape of a request. A `customer_id` that is not a UUID names no customer.
    pub fn parse(
        customer_id: &str,
        items: Vec<(String, Value)>,
    ) -> Result<NewOrder, OrderRequestError> {
        let customer_id = Uuid::parse_str(customer_id.trim())
            .map_err(|_| OrderRequestError::UnknownCustomer(customer_id.to_owned()))?;
        if items.is_empty() {
            return Err(OrderRequestError::Empty);
        }
        if items.len() > MAX_LINES {
            return Err(OrderRequestError::TooManyItems(items.len()));
        }
        let mut seen = HashSet::new();
        let mut lines = Vec::with_capacity(items.len());
        for (i, (sku, quantity)) in items.into_iter().enumerate() {
            let quantity = Quantity::parse(&quantity).map_err(|message| {
                OrderRequestError::InvalidQuantity {
                    line: i + 1,
                    message,
                }
            })?;
            if saga_contracts::Sku::parse(&sku).is_err() {
                // Not in the format inventory gives its products: no product has it.
                return Err(OrderRequestError::UnknownSku(vec![sku]));
            }
            if !seen.insert(sku.clone()) {
                return Err(OrderRequestError::DuplicateSku(sku));
            }
            lines.push(RequestedLine { sku, quantity });
        }
        Ok(NewOrder {
            customer_id,
            items: lines,
        })
    }

    /// Prices every line from `catalogue` (SKU → current unit price); the client's opinion of
    /// prices is never asked. Every SKU missing from the catalogue is reported at once.
    pub fn price(
        &self,
        catalogue: &HashMap<String, Money>,
    ) -> Result<PricedOrder, OrderRequestError> {
        let unknown: Vec<String> = self
            .items
            .iter()
            .filter(|l| !catalogue.contains_key(&l.sku))
            .map(|l| l.sku.clone())
            .collect();
        if !unknown.is_empty() {
            return Err(OrderRequestError::UnknownSku(unknown));
        }
        let lines: Vec<OrderLine> = self
            .items
            .iter()
            .map(|l| OrderLine {
                sku: l.sku.clone(),
                quantity: l.quantity.get(),
                unit_price: catalogue[&l.sku],
            })
            .collect();
        let total: Money = lines.iter().map(|l| l.unit_price * l.quantity).sum();
        Money::new(total.amount()).map_err(|_| OrderRequestError::TotalTooLarge)?;
        Ok(PricedOrder {
            customer_id: self.customer_id,
            lines,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CUSTOMER: &str = "0190b2a4-7c2e-7d3a-9f00-000000000001";

    fn lines(n: usize) -> Vec<(String, Value)> {
        (0..n).map(|i| (format!("SKU-{i}"), json!(1))).collect()
    }

    #[test]
    fn accepts_one_to_a_hundred_distinct_lines() {
        let order = NewOrder::parse(CUSTOMER, lines(1)).unwrap();
        assert_eq!(order.customer_id.to_string(), CUSTOMER);
        assert_eq!(order.items[0].sku, "SKU-0");
        assert_eq!(
            NewOrder::parse(CUSTOMER, lines(100)).unwrap().items.len(),
            100
        );
    }

    #[test]
    fn each_rule_has_its_code() {
        let code = |c: &str, items| NewOrder::parse(c, items).unwrap_err().code();
        assert_eq!(code("nope", lines(1)), "unknown_customer");
        assert_eq!(code(CUSTOMER, lines(0)), "empty_order");
        assert_eq!(code(CUSTOMER, lines(101)), "too_many_items");
        assert_eq!(
            code(CUSTOMER, vec![("A".into(), json!(0))]),
            "invalid_quantity"
        );
        assert_eq!(
            code(
                CUSTOMER,
                vec![("A".into(), json!(1)), ("A".into(), json!(2))]
            ),
            "duplicate_sku"
        );
        for not_a_sku in ["a\u{0}", "a b", "", "é"] {
            assert_eq!(
                code(CUSTOMER, vec![(not_a_sku.into(), json!(1))]),
                "unknown_sku",
                "{not_a_sku:?}"
            );
        }
    }

    #[test]
    fn prices_from_the_catalogue_and_reports_every_unknown_sku() {
        let catalogue: HashMap<String, Money> = [
            ("A".to_owned(), "2.50".parse().unwrap()),
            ("B".to_owned(), "0.10".parse().unwrap()),
        ]
        .into();
        let order = NewOrder::parse(
            CUSTOMER,
            vec![("A".into(), json!(3)), ("B".into(), json!(1000))],
        )
        .unwrap();
        let priced = order.price(&catalogue).unwrap();
        assert_eq!(priced.total.to_string(), "107.50");
        assert_eq!(priced.lines[0].unit_price.to_string(), "2.50");
        assert_eq!(priced.lines[1].quantity, 1000);

        let order = NewOrder::parse(
            CUSTOMER,
            vec![
                ("X".into(), json!(1)),
                ("A".into(), json!(1)),
                ("Y".into(), json!(1)),
            ],
        )
        .unwrap();
        assert_eq!(
            order.price(&catalogue),
            Err(OrderRequestError::UnknownSku(vec!["X".into(), "Y".into()]))
        );

        let dear: HashMap<String, Money> = (0..100)
            .map(|i| (format!("SKU-{i}"), "1000000000".parse().unwrap()))
            .collect();
        let order = NewOrder::parse(CUSTOMER, lines(100)).unwrap();
        assert_eq!(order.price(&dear), Err(OrderRequestError::TotalTooLarge));
    }

    #[test]
    fn normalized_form_is_what_idempotency_compares() {
        let a = NewOrder::parse(CUSTOMER, vec![("A".into(), json!(2.0))]).unwrap();
        let b = NewOrder::parse(&CUSTOMER.to_uppercase(), vec![("A".into(), json!(2))]).unwrap();
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
    }
}
