//! HTTP routes of the billing service (SPEC §4).

mod billing;

use actix_web::web;

pub use billing::{deposit, statement};

/// The OpenAPI document of these routes, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Registers the service's own routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::post().to(deposit))
        .route("/billing/{customer_id}", web::get().to(statement));
}
