//! The service's own Prometheus metrics (rendered by `/metrics` with the runtime's).

use std::sync::LazyLock;

use prometheus::{register_int_counter, register_int_counter_vec, IntCounter, IntCounterVec};

pub static CUSTOMER_NOT_YET_KNOWN: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notification_customer_not_yet_known_total",
        "Order-event attempts put back for retry because customer.created had not arrived yet"
    )
    .expect("metric registers once")
});

pub static DELIVERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "notifications_delivered_total",
        "Notifications handed to the notifier successfully, by kind",
        &["kind"]
    )
    .expect("metric registers once")
});

pub static DELIVERY_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "notification_delivery_failures_total",
        "Deliveries the notifier failed; they are retried after the claim lease"
    )
    .expect("metric registers once")
});

/// Registers the metrics up front so that `/metrics` shows them from the start.
pub fn register() {
    LazyLock::force(&CUSTOMER_NOT_YET_KNOWN);
    LazyLock::force(&DELIVERED);
    LazyLock::force(&DELIVERY_FAILURES);
}
