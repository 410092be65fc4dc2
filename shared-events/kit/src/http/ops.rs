//! The operational endpoints every service serves — `GET /health` (alive), `GET /ready` (its
//! store and the broker reachable), `GET /metrics` (Prometheus text), `GET /openapi.json` —
//! their part of every OpenAPI document ([`document`], and [`undocumented`], which checks a
//! service's routes against its document with them included), and [`unrouted`], the answer
//! to a request no route takes.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;
use utoipa::OpenApi;

use super::{ApiError, Document, ErrorBody, Readiness, RouteTable, Routes};

/// The operational paths and the shared schemas, merged into every service's document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(health, ready, metrics, openapi_doc),
    components(schemas(ErrorBody, super::ErrorDetail))
)]
struct OpsDoc;

/// Registers the operational endpoints.
pub fn configure(routes: &mut Routes) {
    routes
        .public_get("/health", health)
        .public_get("/ready", ready)
        .get("/metrics", metrics)
        .public_get("/openapi.json", openapi_doc);
}

/// The document of a service whose own paths are `service`'s: the operational paths and the
/// shared `Error` schema are added, then the `bearer` security scheme ([`Document::new`]).
pub fn document(service: utoipa::openapi::OpenApi) -> Document {
    let mut doc = service;
    doc.merge(OpsDoc::openapi());
    Document::new(doc)
}

/// Where a service's routes and its document disagree (see [`RouteTable::undocumented`]), the
/// operational routes and paths included: each service's `routes` module tests that this is
/// empty.
pub fn undocumented<F>(openapi: utoipa::openapi::OpenApi, routes: F) -> Vec<String>
where
    F: Fn(&mut Routes),
{
    let table = RouteTable::of(|r| {
        configure(r);
        routes(r);
    });
    table.undocumented(&document(openapi))
}

/// The service is alive.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "Alive")))]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The service's store and the broker are reachable.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Ready: every check is `ok`"),
    (status = 503, description = "Not ready: the failing checks say why"),
))]
async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let (all_ok, report) = readiness.run().await;
    let body = json!({ "status": if all_ok { "ready" } else { "unavailable" }, "checks": report });
    if all_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics, in the text format (operators only).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    security(("bearer" = ["operator"])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        super::responses::Unauthorized, super::responses::Forbidden,
    ))]
async fn metrics(caller: crate::auth::Caller) -> Result<HttpResponse, ApiError> {
    caller.require_operator("read the metrics")?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(saga_messaging::metrics::render()))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The service's OpenAPI document")))]
async fn openapi_doc(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.json().to_owned())
}

/// The app's default service, for a request no route takes. A path the service serves, asked
/// with a method it does not serve there, is 405 `method_not_allowed` with an `Allow` header
/// listing the methods it does serve (every registered pattern that matches counts:
/// `/stock/reserve` is also a `/stock/{sku}`). Anything else is 404 `not_found`. Both carry
/// the JSON error body.
pub async fn unrouted(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<web::Data<RouteTable>>()
        .map(|table| table.methods_for(req.path()))
        .unwrap_or_default();
    if allowed.is_empty() || allowed.contains(req.method()) {
        return ApiError::not_found("not_found", "no such resource").error_response();
    }
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not served at {}; allowed: {allow}",
            req.method(),
            req.path()
        ),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
