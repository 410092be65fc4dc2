//! The orders domain, free of I/O: validated order requests, the saga's states and the state
//! machine between them.

mod new_order;
mod quantity;
mod status;
mod transition;

pub use new_order::{NewOrder, OrderRequestError, PricedOrder, RequestedLine, MAX_LINES};
pub use quantity::{Quantity, MAX_QUANTITY};
pub use saga_contracts::Money;
pub use status::{Awaiting, SagaState, Status, UnknownStatus};
pub use transition::{apply, Decision, SagaInput, TIMEOUT_REASON};
