//! HTTP routes of the orders service, one file per resource: SPEC §4's orders ([`orders`]),
//! the saga feed ([`feed`], each event's schema in [`feed_event`], its permits in
//! [`stream_permits`]) and its counts ([`summary`]), and the console ([`console`]); [`error`]
//! turns store errors into API errors.

mod console;
mod error;
mod feed;
mod feed_event;
mod orders;
mod stream_permits;
mod summary;

use shared_events::kit::http::Routes;
use utoipa::OpenApi;

pub use feed::Feed;
pub use orders::{create_order, get_order, list_orders};
pub use stream_permits::{MAX_STREAMS, MAX_STREAMS_PER_CLIENT};

/// The document of the service's own routes; [`shared_events::kit::http::document`] adds the
/// operational ones and the `Error` schema.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "orders service",
        description = "Takes orders, prices them from the catalogue replica (fed by stock.updated) and runs the order saga: PENDING until stock.reserved and order.paid (CONFIRMED, order.confirmed), or stock.rejected, payment.failed or the deadline (CANCELLED, order.cancelled)."
    ),
    paths(
        orders::create_order,
        orders::list_orders,
        feed::stream,
        summary::summary,
        orders::get_order,
        console::page,
        console::script,
        console::style,
    ),
    components(schemas(crate::store::feed::Transition, feed_event::FeedEvent))
)]
struct ApiDoc;

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Registers the service's own routes. They find the pool and the [`Feed`] as app data.
/// `/orders/stream` and `/orders/summary` come before `/orders/{id}`, which would take them.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/orders", create_order)
        .get("/orders", list_orders)
        .get("/orders/stream", feed::stream)
        .get("/orders/summary", summary::summary)
        .get("/orders/{id}", get_order)
        .get("/console", console::page)
        .get("/console/console.js", console::script)
        .get("/console/console.css", console::style);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_documents_its_limits() {
        let doc = openapi();
        let stream = doc.paths.paths["/orders/stream"].get.as_ref().unwrap();
        let description = stream.description.as_deref().unwrap();
        let limits = format!(
            "503 too_many_streams when {MAX_STREAMS} streams are open on the instance, \
             or {MAX_STREAMS_PER_CLIENT} from the client's address"
        );
        assert!(description.contains(&limits), "{description}");
    }

    #[test]
    fn every_route_is_documented() {
        let problems = shared_events::kit::http::undocumented(openapi(), configure);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
