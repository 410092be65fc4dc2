//! HTTP routes of the orders service (SPEC §4).

mod orders;

use actix_web::web;

pub use orders::{create_order, get_order, list_orders};

/// The OpenAPI document of these routes, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Registers the service's own routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::post().to(create_order))
        .route("/orders", web::get().to(list_orders))
        .route("/orders/{id}", web::get().to(get_order));
}
