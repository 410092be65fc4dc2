//! The service's own Prometheus metrics (rendered by `/metrics` with the runtime's).

use std::sync::LazyLock;

use prometheus::{IntCounter, IntCounterVec, Opts};

/// Order-event attempts put back for retry because `customer.created` had not arrived yet.
pub static CUSTOMER_NOT_YET_KNOWN: LazyLock<IntCounter> = LazyLock::new(|| {
    let help =
        "Order-event attempts put back for retry because customer.created had not arrived yet";
    registered(IntCounter::new(
        "notification_customer_not_yet_known_total",
        help,
    ))
});

/// Notifications the notifier delivered, by kind.
pub static DELIVERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    let help = "Notifications handed to the notifier successfully, by kind";
    registered(IntCounterVec::new(
        Opts::new("notifications_delivered_total", help),
        &["kind"],
    ))
});

/// Deliveries the notifier failed; they are retried after the claim lease.
pub static DELIVERY_FAILURES: LazyLock<IntCounter> = LazyLock::new(|| {
    let help = "Deliveries the notifier failed; they are retried after the claim lease";
    registered(IntCounter::new(
        "notification_delivery_failures_total",
        help,
    ))
});

/// `metric`, registered in the default registry (which `/metrics` renders).
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    metric: prometheus::Result<M>,
) -> M {
    let metric = metric.expect("a metric's name and help are valid");
    prometheus::register(Box::new(metric.clone())).expect("metric registers once");
    metric
}

/// Registers the metrics up front so that `/metrics` shows them from the start.
pub fn register() {
    LazyLock::force(&CUSTOMER_NOT_YET_KNOWN);
    LazyLock::force(&DELIVERED);
    LazyLock::force(&DELIVERY_FAILURES);
}
