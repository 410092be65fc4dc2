//! HTTP routes of the notification service (SPEC §4), one file per resource, the state they
//! share, and the OpenAPI document generated from them.

mod error;
mod notifications;
mod notify;
mod stock_alerts;

use std::sync::Arc;

use redis::aio::ConnectionManager;
use saga_kit::http::{ApiError, Routes};
use tokio::sync::Notify;
use utoipa::OpenApi;
use uuid::Uuid;

pub use notifications::list_notifications;
pub use notify::notify;
pub use stock_alerts::stock_alerts;

use crate::store::Keys;

/// The service's own part of its OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "notification service",
        description = "Customer notifications (one per order and kind) from the saga's events, \
                       manual notifications, and low-stock alerts for operations."
    ),
    paths(
        notify::notify,
        notifications::list_notifications,
        stock_alerts::stock_alerts
    ),
    components(schemas(
        notify::NotifyRequest,
        notify::Accepted,
        crate::store::Notification,
        crate::domain::Kind,
        stock_alerts::StockAlerts,
        crate::store::StockAlert,
        crate::store::StockNumbers,
    ))
)]
struct ApiDoc;

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
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
    /// The store.
    pub conn: ConnectionManager,
    /// The key names, under the configured prefix.
    pub keys: Keys,
    /// Rung after a notification is stored, so the dispatcher delivers it at once.
    pub kick: Arc<Notify>,
}

/// A customer id given as text: 422 `invalid_customer_id` when missing or not a UUID.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain;

    #[test]
    fn every_route_is_documented() {
        let undocumented = saga_kit::http::undocumented(openapi(), configure);
        assert_eq!(undocumented, Vec::<String>::new());
    }

    /// utoipa takes only literals for bounds: they must be the ones the code checks.
    #[test]
    fn the_documented_bounds_are_the_checked_ones() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let request = &doc["components"]["schemas"]["NotifyRequest"]["properties"];
        assert_eq!(request["subject"]["maxLength"], domain::MAX_SUBJECT_CHARS);
        assert_eq!(request["body"]["maxLength"], domain::MAX_BODY_CHARS);
        let limit = &doc["paths"]["/notifications"]["get"]["parameters"][1]["schema"];
        assert_eq!(limit["maximum"], notifications::MAX_LIMIT);
        assert_eq!(limit["default"], notifications::DEFAULT_LIMIT);
    }
}
