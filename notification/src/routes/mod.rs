//! HTTP routes of the notification service (SPEC §4), and the state they share.

mod notifications;
mod notify;
mod stock_alerts;

use std::sync::Arc;

use redis::aio::ConnectionManager;
use shared_events::http::ApiError;
use shared_events::http::Routes;
use tokio::sync::Notify;
use uuid::Uuid;

pub use notifications::list_notifications;
pub use notify::notify;
pub use stock_alerts::stock_alerts;

use crate::keys::Keys;

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let doc = include_str!("../../openapi.json").replacen("3.0.3", "3.1.0", 1);
    serde_json::from_str(&doc).expect("the OpenAPI document parses")
}

/// Registers the service's own routes.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/notify", notify)
        .get("/notifications", list_notifications)
        .get("/stock-alerts", stock_alerts);
}

/// What every handler needs: a Redis connection, the key names, and the dispatcher's bell.
#[derive(Clone)]
pub struct AppState {
    pub conn: ConnectionManager,
    pub keys: Keys,
    pub kick: Arc<Notify>,
}

/// Redis failing is the service being unavailable, not the request being wrong.
fn store_error(e: redis::RedisError) -> ApiError {
    tracing::error!(error = %e, "Redis request failed");
    ApiError::unavailable("the notification store is unavailable; try again")
}

fn parse_customer_id(raw: Option<&str>) -> Result<Uuid, ApiError> {
    let raw = raw
        .ok_or_else(|| ApiError::unprocessable("invalid_customer_id", "customer_id is required"))?;
    Uuid::parse_str(raw.trim()).map_err(|_| {
        ApiError::unprocessable(
            "invalid_customer_id",
            format!("customer_id {raw:?} is not a UUID"),
        )
    })
}
