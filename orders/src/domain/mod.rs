//! The orders domain, free of I/O: validated order requests and the saga state machine.

mod new_order;
mod quantity;
pub mod saga;

pub use new_order::{NewOrder, OrderRequestError, PricedOrder, RequestedLine, MAX_LINES};
pub use quantity::{Quantity, MAX_QUANTITY};
pub use saga::{apply, Awaiting, Decision, SagaInput, SagaState};
pub use shared_events::Money;
