//! HTTP routes of the orders service: SPEC §4's, the saga feed, and the console.

mod console;
mod feed;
mod orders;

use actix_web::web;

pub use feed::{Feed, MAX_STREAMS};
pub use orders::{create_order, get_order, list_orders};

/// The OpenAPI document of these routes, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Registers the service's own routes. They find the pool and the [`Feed`] as app data.
/// `/orders/stream` and `/orders/summary` come before `/orders/{id}`, which would take them.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::post().to(create_order))
        .route("/orders", web::get().to(list_orders))
        .route("/orders/stream", web::get().to(feed::stream))
        .route("/orders/summary", web::get().to(feed::summary))
        .route("/orders/{id}", web::get().to(get_order))
        .route("/console", web::get().to(console::page))
        .route("/console/console.js", web::get().to(console::script))
        .route("/console/console.css", web::get().to(console::style));
}
