//! Prometheus metrics of the messaging runtime, in the process-wide default registry that
//! every service's `GET /metrics` renders.

use std::sync::LazyLock;

use prometheus::{
    register_histogram, register_histogram_vec, register_int_counter, register_int_counter_vec,
    register_int_gauge, Encoder, Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    TextEncoder,
};

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Events handled, by event type and outcome (applied or duplicate).
pub static EVENTS_HANDLED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "events_handled_total",
        "Events handled by this service's consumer, by event type and outcome",
        &["event_type", "outcome"]
    )
    .expect("metric registers once")
});

/// Messages dead-lettered, by event type and reason.
pub static EVENTS_DEAD_LETTERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "events_dead_lettered_total",
        "Messages sent to a dead-letter topic, by event type and reason",
        &["event_type", "reason"]
    )
    .expect("metric registers once")
});

/// Dead letters the broker refused even cut down: they are only in the service's log.
pub static DEAD_LETTERS_LOST: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "dead_letters_lost_total",
        "Dead letters the broker refused even as a cut-down copy (logged in full instead)"
    )
    .expect("metric registers once")
});

/// Attempts retried because a dependency (a store) was unavailable: during an outage this
/// grows while nothing is dead-lettered.
pub static UNAVAILABLE_RETRIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "events_unavailable_retries_total",
        "Handler attempts retried because a dependency was unavailable, by event type",
        &["event_type"]
    )
    .expect("metric registers once")
});

/// Time in one handler attempt, by event type.
pub static HANDLE_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "event_handle_seconds",
        "Time spent in one handler attempt",
        &["event_type"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// Outbox records the broker acknowledged.
pub static OUTBOX_PUBLISHED: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "outbox_published_total",
        "Outbox records published and acknowledged by the broker"
    )
    .expect("metric registers once")
});

/// From an outbox record's commit to the broker's ack: the relay's share of a saga hop.
pub static OUTBOX_PUBLISH_LATENCY: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "outbox_commit_to_publish_seconds",
        "From writing an outbox record to the broker's ack",
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// How many bytes of WAL the PostgreSQL outbox relay has yet to confirm to its slot, as of
/// the server's last report: what a relay that stops would make PostgreSQL keep.
pub static OUTBOX_RELAY_LAG_BYTES: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "outbox_relay_lag_bytes",
        "WAL bytes between the server's end and what the outbox relay confirmed to its slot"
    )
    .expect("metric registers once")
});

/// 1 while this instance's PostgreSQL outbox relay streams its slot, 0 while it stands by.
pub static OUTBOX_RELAY_STREAMING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "outbox_relay_streaming",
        "1 while this instance streams its outbox's replication slot"
    )
    .expect("metric registers once")
});

/// Consumers replaced after librdkafka declared them fatally failed (for example fenced).
pub static CONSUMER_RESTARTS: LazyLock<IntCounter> = LazyLock::new(|| {
    register_int_counter!(
        "consumer_restarts_total",
        "Kafka consumers replaced by a new one after a fatal error"
    )
    .expect("metric registers once")
});

/// Everything in the default registry, in the Prometheus text format.
pub fn render() -> String {
    // Register the runtime's metrics up front: the unlabelled ones then show at zero, and
    // the labelled families from their first sample on.
    LazyLock::force(&EVENTS_HANDLED);
    LazyLock::force(&EVENTS_DEAD_LETTERED);
    LazyLock::force(&HANDLE_SECONDS);
    LazyLock::force(&OUTBOX_PUBLISHED);
    LazyLock::force(&OUTBOX_PUBLISH_LATENCY);
    LazyLock::force(&CONSUMER_RESTARTS);

    LazyLock::force(&DEAD_LETTERS_LOST);
    let mut buf = Vec::new();
    TextEncoder::new()
        .encode(&prometheus::gather(), &mut buf)
        .expect("text encoding cannot fail");
    String::from_utf8(buf).expect("the text format is UTF-8")
}
