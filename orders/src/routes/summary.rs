//! `GET /orders/summary`: the counts the console shows, every 2 s per open console. They come
//! from the counters the database keeps ([`crate::store::counts`]), never from a scan of the
//! orders, so a poll costs the same however many orders there are. Operators only: the counts
//! are of everyone's orders.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use saga_kit::auth::Caller;
use saga_kit::http::responses::{Forbidden, Unauthorized, Unavailable};
use saga_kit::http::ApiError;
use serde::Serialize;

use sqlx::PgPool;

use crate::store;

/// The window of `completed_last_minute`.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Orders per status, and how fast sagas end.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// How many orders are in each status.
    counts: Counts,
    /// Orders that became CONFIRMED or CANCELLED in the last 60 s (counted per whole second:
    /// the part of the oldest second that falls in the window is left out).
    completed_last_minute: i64,
    /// The same, per second.
    completed_per_second: f64,
}

/// How many orders are in each status (0 for a status no order is in).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
struct Counts {
    /// Still deciding.
    #[serde(rename = "PENDING")]
    pending: i64,
    /// Confirmed.
    #[serde(rename = "CONFIRMED")]
    confirmed: i64,
    /// Cancelled.
    #[serde(rename = "CANCELLED")]
    cancelled: i64,
}

/// Orders per status, and sagas completed in the last minute (operators only).
#[utoipa::path(get, path = "/orders/summary", tag = "saga feed",
    security(("bearer" = ["operator"])),
    responses(
        (status = 200, description = "The counts", body = Summary),
        Unauthorized, Forbidden, Unavailable,
    ))]
#[tracing::instrument(skip_all)]
pub async fn summary(caller: Caller, pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    caller.require_operator("read the counts of everyone's orders")?;
    let (by_status, recent) = store::counts::summary(&pool, RATE_WINDOW).await?;
    let mut counts = Counts::default();
    for (status, n) in by_status {
        match status.as_str() {
            "PENDING" => counts.pending = n,
            "CONFIRMED" => counts.confirmed = n,
            "CANCELLED" => counts.cancelled = n,
            other => tracing::warn!(status = other, "an order in an unknown status; not counted"),
        }
    }
    Ok(HttpResponse::Ok().json(Summary {
        counts,
        completed_last_minute: recent,
        completed_per_second: recent as f64 / RATE_WINDOW.as_secs_f64(),
    }))
}
