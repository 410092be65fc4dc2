//! Inventory's domain: validated values (valid by construction) and the pure reservation
//! logic both stores share. Nothing here does I/O.

mod decision;
mod product;
pub mod quantity;
mod reservation;

pub use decision::{
    decide, skus_to_load, stock_lines, Book, Command, Decision, ProductChange, Refusal, Repeats,
    SagaRecord,
};
pub use product::{change_events, NewProduct, Product, ProductName, StockError};
pub use reservation::{
    Line, RejectReason, Rejection, RequestError, Reservation, ReservationRequest, ReservationStatus,
};
pub use saga_contracts::Money;
pub use saga_contracts::Sku;
