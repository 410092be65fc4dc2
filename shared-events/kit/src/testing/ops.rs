//! Assertions on the operational endpoints every service serves (SPEC §4): `/health`,
//! `/ready`, `/metrics` and `/openapi.json`.

use std::time::Duration;

use serde_json::Value;

use saga_messaging::testing::wait_for;

use crate::testing::TestClient;

/// The paths every service documents besides its own.
pub const OPS_PATHS: &[&str] = &["/health", "/ready", "/metrics", "/openapi.json"];

/// What a service's operational endpoints must show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ops<'a> {
    /// The checks `/ready` must report as `ok`: the store's and `kafka`.
    pub ready: &'a [&'a str],
    /// How long `/ready` may take to answer 200 (a busy broker can miss its two-second probe,
    /// then readiness is a condition to reach); zero asks for 200 at the first request.
    pub ready_within: Duration,
}

/// `/health` answers 200; `/ready` 200 with every check of `ops.ready` ok; `/openapi.json`
/// is an OpenAPI 3.1 document with the operational paths (that it documents exactly the
/// service's routes is each service's `routes` unit test, [`crate::http::undocumented`]); `/metrics` answers 200 in Prometheus text with the HTTP request
/// counter. Returns the `/ready` body and the metrics text, for the service's own checks.
pub async fn assert_ops_endpoints(client: &TestClient, ops: Ops<'_>) -> (Value, String) {
    let (status, health) = client.get("/health").await;
    assert_eq!(status, 200, "/health: {health}");

    let ready = if ops.ready_within.is_zero() {
        let (status, ready) = client.get("/ready").await;
        assert_eq!(status, 200, "/ready: {ready}");
        ready
    } else {
        wait_for("the service to be ready", ops.ready_within, || async {
            let (status, ready) = client.get("/ready").await;
            (status == 200).then_some(ready)
        })
        .await
    };
    for check in ops.ready {
        assert_eq!(ready["checks"][check], "ok", "/ready's {check}: {ready}");
    }

    let (status, doc) = client.get("/openapi.json").await;
    assert_eq!(status, 200, "/openapi.json: {doc}");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "/openapi.json: {doc}"
    );
    for path in OPS_PATHS {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }

    let (status, metrics) = client.get_text("/metrics").await;
    assert_eq!(status, 200, "/metrics: {metrics}");
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    (ready, metrics)
}
