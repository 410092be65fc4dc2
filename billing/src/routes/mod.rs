//! HTTP routes of the billing service (SPEC §4): one file per resource ([`billing`]: deposits
//! and statements), the OpenAPI document generated from their handlers, and how store errors
//! become API errors (`error.rs`).

mod billing;
mod error;
pub mod schema;

use saga_kit::http::Routes;
use utoipa::OpenApi;

pub use billing::{deposit, statement, DepositRequest, DepositResponse};

/// The document of the service's own routes (the kit adds the operational ones and `Error`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "billing service",
        description = "Customer accounts (opened by customer.created), deposits, and the payments \
                       of the order saga: order.created is charged (order.paid or payment.failed), \
                       order.cancelled is refunded (payment.refunded)."
    ),
    paths(billing::deposit, billing::statement),
    components(schemas(
        DepositRequest,
        DepositResponse,
        crate::store::statement::Statement,
        crate::store::statement::PaymentEntry,
        crate::domain::Balance
    ))
)]
struct ApiDoc;

/// Registers the service's own routes.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/billing", deposit)
        .get("/billing/{customer_id}", statement);
}

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    /// Every route served is documented and every documented one served (the operational
    /// ones included).
    #[test]
    fn every_route_is_documented() {
        let mismatches = saga_kit::http::undocumented(super::openapi(), super::configure);
        assert!(
            mismatches.is_empty(),
            "routes and document differ: {mismatches:?}"
        );
    }
}
