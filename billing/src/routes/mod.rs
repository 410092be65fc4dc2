//! HTTP routes of the billing service (SPEC §4).

mod billing;

use shared_events::http::Routes;

pub use billing::{deposit, statement};

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let doc = include_str!("../../openapi.json").replacen("3.0.3", "3.1.0", 1);
    serde_json::from_str(&doc).expect("the OpenAPI document parses")
}

/// Registers the service's own routes.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/billing", deposit)
        .get("/billing/{customer_id}", statement);
}
