//! [`observe`]: the middleware every service wraps its app in. Each request gets one `tracing`
//! span from its first byte to its response (the handler's and the store's spans and logs nest
//! inside it), one log line when it ends, and one sample in `/metrics`, labelled by route
//! pattern rather than raw path.

use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use prometheus::{register_histogram_vec, register_int_counter_vec, HistogramVec, IntCounterVec};
use tracing::Instrument;

static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "http_requests_total",
        "HTTP requests by method, route and status",
        &["method", "route", "status"]
    )
    .expect("metric registers once")
});

static HTTP_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "http_request_seconds",
        "HTTP request latency by method and route",
        &["method", "route"],
        vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
    )
    .expect("metric registers once")
});

/// Middleware (use with `actix_web::middleware::from_fn(observe)`): one span, one log line and
/// one metric sample per request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let span = tracing::info_span!(
        "request",
        %method,
        %path,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let response = next.call(req).instrument(span.clone()).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.record("route", route.as_str());
    span.record("status", status);
    HTTP_REQUESTS
        .with_label_values(&[&method, &route, &status.to_string()])
        .inc();
    HTTP_SECONDS
        .with_label_values(&[&method, &route])
        .observe(elapsed.as_secs_f64());
    if route != "/health" && route != "/metrics" {
        span.in_scope(|| {
            tracing::info!(%method, %path, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request");
        });
    }
    Ok(response)
}
