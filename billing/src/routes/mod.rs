//! HTTP routes of the billing service (SPEC §4).

mod billing;

use actix_web::web;

pub use billing::{deposit, statement};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::post().to(deposit))
        .route("/billing/{customer_id}", web::get().to(statement));
}
