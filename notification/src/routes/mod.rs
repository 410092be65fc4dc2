//! HTTP routes of the notification service (SPEC §4), one file per resource: [`notify`] (manual
//! notifications), [`notifications`] (a customer's list) and [`stock_alerts`]. They share the
//! state of [`state`] and the customer id read by [`input`]; store errors become API errors in
//! [`error`], and the OpenAPI document is generated from the handlers ([`openapi`]).

mod error;
mod input;
mod notifications;
mod notify;
mod state;
mod stock_alerts;

use saga_kit::http::Routes;
use utoipa::OpenApi;

pub use notifications::list_notifications;
pub use notify::notify;
pub use state::AppState;
pub use stock_alerts::stock_alerts;

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
