//! Inventory's domain: validated values (valid by construction) and the pure reservation
//! logic both stores share. Nothing here does I/O.

mod decision;
mod name;
mod product;
pub mod quantity;
mod reservation;
mod sku;

pub use decision::{decide, skus_to_load, stock_lines, Command, Decision, ProductChange, Repeats};
pub use name::ProductName;
pub use product::{change_events, NewProduct, Product, StockError};
pub use reservation::{
    Line, RejectReason, Rejection, RequestError, Reservation, ReservationRequest, ReservationStatus,
};
pub use shared_events::Money;
pub use sku::Sku;
