//! HTTP routes of the orders service: SPEC §4's, the saga feed, and the console.

mod console;
mod feed;
mod orders;

use shared_events::http::Routes;

pub use feed::{Feed, MAX_STREAMS};
pub use orders::{create_order, get_order, list_orders};

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let doc = include_str!("../../openapi.json").replacen("3.0.3", "3.1.0", 1);
    serde_json::from_str(&doc).expect("the OpenAPI document parses")
}

/// Registers the service's own routes. They find the pool and the [`Feed`] as app data.
/// `/orders/stream` and `/orders/summary` come before `/orders/{id}`, which would take them.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/orders", create_order)
        .get("/orders", list_orders)
        .get("/orders/stream", feed::stream)
        .get("/orders/summary", feed::summary)
        .get("/orders/{id}", get_order)
        .get("/console", console::page)
        .get("/console/console.js", console::script)
        .get("/console/console.css", console::style);
}
