//! HTTP routes of the customer service (SPEC §4).

mod customers;

use actix_web::web;

pub use customers::{create_customer, get_customer};

/// The OpenAPI document of these routes, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Registers the service's own routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/customers", web::post().to(create_customer))
        .route("/customers/{id}", web::get().to(get_customer));
}
