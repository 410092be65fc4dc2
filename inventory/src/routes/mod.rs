//! HTTP routes of the inventory service (SPEC §4).

mod input;
mod reserve;
mod stock;

use shared_events::http::Routes;

pub use reserve::{release, reserve};
pub use stock::{create_stock, get_stock, restock};

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let doc = include_str!("../../openapi.json").replacen("3.0.3", "3.1.0", 1);
    serde_json::from_str(&doc).expect("the OpenAPI document parses")
}

/// Registers the service's own routes.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/stock", create_stock)
        .post("/stock/reserve", reserve)
        .delete("/stock/reserve/{order_id}", release)
        .get("/stock/{sku}", get_stock)
        .post("/stock/{sku}/restock", restock);
}
