//! `GET /console`: the saga console, a static page (HTML, CSS and plain JavaScript, no build
//! step, nothing fetched from elsewhere) compiled into the binary. It loads with
//! `GET /orders?limit=` and `GET /orders/summary`, then follows `GET /orders/stream`.

use actix_web::http::header;
use actix_web::HttpResponse;

const PAGE: &str = include_str!("../console/index.html");
const SCRIPT: &str = include_str!("../console/console.js");
const STYLE: &str = include_str!("../console/console.css");

/// Nothing but this origin: the page needs no other, and a stray include fails loudly.
const POLICY: &str =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/// A static asset, with headers that keep the page to its own origin.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// The saga console: a page that shows every saga live (HTML, no external resources).
#[utoipa::path(get, path = "/console", tag = "console", responses(
    (status = 200, description = "The page", content_type = "text/html", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", PAGE)
}

/// The console's script.
#[utoipa::path(get, path = "/console/console.js", tag = "console", responses(
    (status = 200, description = "JavaScript", content_type = "text/javascript", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// The console's style sheet.
#[utoipa::path(get, path = "/console/console.css", tag = "console", responses(
    (status = 200, description = "CSS", content_type = "text/css", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}
