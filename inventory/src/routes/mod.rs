//! HTTP routes of the inventory service (SPEC §4), one file per resource: [`stock`] (products
//! and their numbers) and [`reserve`] (reservations by hand). Requests' fields are parsed by
//! hand ([`input`]), store errors become API errors in [`error`], and the OpenAPI document is
//! generated from the handlers ([`openapi`]), with the shared schemas of [`schema`].

mod error;
mod input;
mod reserve;
mod schema;
mod stock;

use saga_kit::http::Routes;
use utoipa::OpenApi;

pub use reserve::{release, reserve};
pub use stock::{create_stock, get_stock, restock};

/// The service's own part of its OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "inventory service",
        description = "Products, stock and reservations. Every change of a product's numbers \
                       emits stock.updated (and low.stock when available crosses below the \
                       threshold); reservations emit stock.reserved / stock.rejected / \
                       stock.released, as in the order saga."
    ),
    paths(
        stock::create_stock,
        stock::get_stock,
        stock::restock,
        reserve::reserve,
        reserve::release
    ),
    components(schemas(saga_contracts::Sku, saga_contracts::Money))
)]
struct ApiDoc;

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    link_operation_ids(&mut doc);
    doc
}

/// Writes each response link's `operation_id` as the `operationId` OpenAPI names it.
///
/// utoipa 5.5 serialises `Link`'s fields in snake case (`operation_id`), which no OpenAPI
/// reader knows, so a link would point nowhere. Its extensions are written as they are named,
/// so the id moves there under its right name.
fn link_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                for link in response.links.values_mut() {
                    let RefOr::T(link) = link else { continue };
                    if link.operation_id.is_empty() {
                        continue;
                    }
                    let id = std::mem::take(&mut link.operation_id);
                    link.extensions
                        .get_or_insert_with(Default::default)
                        .insert("operationId".to_owned(), id.into());
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_their_operation_as_openapi_does() {
        let doc = saga_kit::http::document(openapi());
        let doc: serde_json::Value = serde_json::from_str(doc.json()).unwrap();
        let link = &doc["paths"]["/stock"]["post"]["responses"]["201"]["links"]["GetStock"];
        assert_eq!(link["operationId"], "getStock", "{link}");
        assert!(link.get("operation_id").is_none(), "{link}");
    }

    #[test]
    fn every_route_is_documented() {
        let problems = saga_kit::http::undocumented(openapi(), configure);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
