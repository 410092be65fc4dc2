//! HTTP routes of the inventory service (SPEC §4).

mod input;
mod reserve;
mod stock;

use actix_web::web;

pub use reserve::{release, reserve};
pub use stock::{create_stock, get_stock, restock};

/// The OpenAPI document of these routes, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Registers the service's own routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/stock", web::post().to(create_stock))
        .route("/stock/reserve", web::post().to(reserve))
        .route("/stock/reserve/{order_id}", web::delete().to(release))
        .route("/stock/{sku}", web::get().to(get_stock))
        .route("/stock/{sku}/restock", web::post().to(restock));
}
