//! Redis reads and write plans. Writes are returned as command lists (`Vec<Vec<String>>`) so
//! that the consumer can hand them to the runtime's atomic script and the HTTP side can run
//! them in one `MULTI`/`EXEC`.

mod customers;
mod notifications;
mod stock;

pub use customers::{customer_commands, find_recipient};
pub use notifications::{
    apply_atomically, claim, create_commands, find, list_for_customer, mark_sent, pending,
    Notification,
};
pub use stock::{
    alert_commands, latest_stock_at_us, list_alerts, list_stock, stock_commands, StockAlert,
    StockNumbers,
};

/// A command as the runtime's effect script takes it.
pub type Command = Vec<String>;

pub(crate) fn cmd<const N: usize>(args: [&str; N]) -> Command {
    args.iter().map(|a| (*a).to_owned()).collect()
}
