//! HTTP routes of the orders service, one file per resource: SPEC §4's orders ([`orders`]),
//! the saga feed ([`feed`], each event's schema in [`feed_event`], its permits in
//! [`stream_permits`], the tickets that open it from a browser in [`tickets`]) and its counts
//! ([`summary`]), and the console ([`console`]); [`error`] turns store errors into API errors.
//!
//! Every route needs a bearer token (the kit's middleware) but the console's page, its assets
//! and its configuration, and the feed, which checks its token or ticket itself
//! ([`feed`]). What each caller may do is each handler's (SPEC §7).

mod console;
mod error;
mod feed;
mod feed_event;
mod orders;
mod stream_permits;
mod summary;
mod tickets;

use saga_kit::http::Routes;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::OpenApi;

pub use console::{Console, CLIENT_ID};
pub use feed::{Feed, DEFAULT_STREAM_MAX_AGE};
pub use orders::{create_order, get_order, list_orders};
pub use stream_permits::{MAX_STREAMS, MAX_STREAMS_PER_CLIENT};
pub use tickets::{Tickets, MAX_TICKETS, TICKET_TTL};

/// The name of the security scheme of `GET /orders/stream?ticket=`.
pub const TICKET_SCHEME: &str = "ticket";

/// The document of the service's own routes; [`saga_kit::http::document`] adds the
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
        console::config,
        tickets::issue,
    ),
    components(schemas(crate::store::feed::Transition, feed_event::FeedEvent)),
    modifiers(&TicketScheme)
)]
struct ApiDoc;

/// Adds the `ticket` security scheme: a ticket of `POST /console/ticket` as the `ticket`
/// query parameter of `GET /orders/stream`.
struct TicketScheme;

impl utoipa::Modify for TicketScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let ticket = ApiKeyValue::with_description(
            "ticket",
            "A ticket of POST /console/ticket (operators only): opens one GET /orders/stream on \
             the instance that issued it, within 30 s; for clients that cannot send an \
             Authorization header (a browser's EventSource). An access token never goes in a URL.",
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(TICKET_SCHEME, SecurityScheme::ApiKey(ApiKey::Query(ticket)));
    }
}

/// The OpenAPI document of these routes, served at `/openapi.json` with the operational ones.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Registers the service's own routes. They find the pool, the [`Feed`], the [`Tickets`] and
/// the [`Console`] as app data. `/orders/stream` and `/orders/summary` come before
/// `/orders/{id}`, which would take them. The feed is public to the middleware because it
/// checks its caller itself.
pub fn configure(routes: &mut Routes) {
    routes
        .post("/orders", create_order)
        .get("/orders", list_orders)
        .public_get("/orders/stream", feed::stream)
        .get("/orders/summary", summary::summary)
        .get("/orders/{id}", get_order)
        .public_get("/console", console::page)
        .public_get("/console/console.js", console::script)
        .public_get("/console/console.css", console::style)
        .public_get("/console/config.json", console::config)
        .post("/console/ticket", tickets::issue);
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
    fn the_feed_documents_its_ticket_scheme() {
        let doc = saga_kit::http::document(openapi());
        let json: serde_json::Value = serde_json::to_value(doc.openapi()).unwrap();
        let scheme = &json["components"]["securitySchemes"][TICKET_SCHEME];
        assert_eq!(scheme["type"], "apiKey", "{scheme}");
        assert_eq!(scheme["in"], "query");
        assert_eq!(scheme["name"], "ticket");
        let stream = &json["paths"]["/orders/stream"]["get"];
        assert_eq!(
            stream["security"],
            serde_json::json!([{ TICKET_SCHEME: [] }])
        );
        for status in ["401", "403"] {
            assert!(stream["responses"][status].is_object(), "{status}");
        }
        let ticket = &json["paths"]["/console/ticket"]["post"];
        assert_eq!(
            ticket["security"],
            serde_json::json!([{ "bearer": ["operator"] }])
        );
    }

    #[test]
    fn every_route_is_documented() {
        let problems = saga_kit::http::undocumented(openapi(), configure);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
