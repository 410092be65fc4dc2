//! HTTP routes of the customer service (SPEC §4): one file per resource ([`customers`]), the
//! OpenAPI document generated from their handlers, and how store errors become API errors
//! (`error.rs`).

mod customers;
mod error;
pub mod schema;

use saga_kit::http::{ErrorBody, Routes};
use utoipa::OpenApi;

pub use customers::{create_customer, get_customer, CreateCustomer};

/// The document of the service's own routes (the kit adds the operational ones and `Error`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "customer service",
        description = "Registers customers; each registration emits customer.created."
    ),
    paths(customers::create_customer, customers::get_customer),
    components(schemas(
        CreateCustomer,
        crate::store::Customer,
        saga_contracts::Money,
        ErrorBody
    ))
)]
struct ApiDoc;

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Registers the service's own routes.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/customers", create_customer)
        .get("/customers/{id}", get_customer);
}

/// The document and the routes agree: every route served is documented, and every documented
/// one served (the operational ones included).
#[cfg(test)]
#[test]
fn every_route_is_documented() {
    let served_but_not_documented = saga_kit::http::undocumented(openapi(), configure);
    assert_eq!(served_but_not_documented, Vec::<String>::new());
}
