//! HTTP plumbing shared by the five services (feature `http`):
//! - [`ApiError`]: the error body of SPEC §4, `{"error": {"code", "message"}}`;
//! - extractor configs that turn bad input into those errors: malformed JSON → 400,
//!   well-formed but invalid → 422, body over the limit → 413, a bad id in a path → 404;
//! - the operational endpoints every service serves: `/health`, `/ready`, `/metrics`,
//!   `/openapi.json`;
//! - [`unrouted`], the answer to a request no route takes: a JSON 404, or a JSON 405 with
//!   `Allow` for a path the API has but not with that method;
//! - [`observe`], a middleware that logs each request and counts it in `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use prometheus::{register_histogram_vec, register_int_counter_vec, HistogramVec, IntCounterVec};
use serde_json::json;

use crate::config::KafkaConfig;
use crate::trace::TraceParent;

/// Largest JSON body any endpoint accepts.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// An error as the API reports it: a status, a stable snake_case code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// A failure of ours: logged with its cause, reported without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service failed to handle the request; it has been logged",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(json!({ "error": { "code": self.code, "message": self.message } }))
    }
}

/// JSON bodies: at most `limit` bytes, any content type, and SPEC's status for each rejection.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(false)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => too_large(limit),
        JsonPayloadError::Payload(PayloadError::Overflow) => too_large(DEFAULT_BODY_LIMIT),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::unprocessable("invalid_request", e.to_string())
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
        other => ApiError::bad_request("bad_request", other.to_string()),
    }
}

/// A JSON request body, rejected as SPEC says: a body that is not JSON at all (a syntax error,
/// or cut off: `[1,2`) is 400 `malformed_json`; JSON of the wrong shape is 422
/// `invalid_request`.
///
/// actix-web's own `Json` cannot tell the two apart for a body that is both: serde reports the
/// first problem it meets, and for `[1,2` sent where an object is expected that is the
/// sequence, a data error, before it reaches the missing end. So the body is read as a
/// `serde_json::Value` first (syntax only, with [`json_config`]'s limits and errors), then
/// converted to `T` (shape only).
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let syntax = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = syntax.await?;
            serde_json::from_value(value)
                .map(Json)
                .map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()).into())
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes"),
    )
}

/// Path parameters that do not parse (an id that is not a UUID) name no resource: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::not_found("not_found", format!("no such resource ({err})")).into()
    })
}

/// Query strings that do not parse: 422.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::unprocessable("invalid_query", err.to_string()).into())
}

/// Registers the extractor configs, the operational endpoints, and the OpenAPI document that
/// [`unrouted`] reads.
pub fn configure_common(cfg: &mut web::ServiceConfig, readiness: Readiness, openapi: &'static str) {
    cfg.app_data(json_config(DEFAULT_BODY_LIMIT))
        .app_data(path_config())
        .app_data(query_config())
        .app_data(web::Data::new(readiness))
        .app_data(web::Data::new(OpenApi::new(openapi)))
        .route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi_doc));
}

/// The app's default service, for a request no route takes. A path the service's OpenAPI
/// document has, asked with a method the document does not give it, is 405
/// `method_not_allowed` with an `Allow` header listing the methods it does give (every path
/// that matches counts: `/stock/reserve` is also a `/stock/{sku}`). Anything else is 404
/// `not_found`. Both carry the JSON error body.
///
/// The document is the route table here, so it must list exactly the routes the service
/// registers; `scripts/fuzz` checks the two agree.
pub async fn unrouted(req: HttpRequest) -> HttpResponse {
    let allowed = req
        .app_data::<web::Data<OpenApi>>()
        .map(|doc| doc.methods_for(req.path()))
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

/// The OpenAPI document a service serves, and the methods it gives each path.
struct OpenApi {
    doc: &'static str,
    paths: Vec<(ResourceDef, Vec<Method>)>,
}

/// The methods an OpenAPI path item can hold, in the order an `Allow` header lists them.
const METHODS: [Method; 8] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::OPTIONS,
    Method::HEAD,
    Method::PATCH,
    Method::TRACE,
];

impl OpenApi {
    /// OpenAPI path templates (`/customers/{id}`) are actix patterns too. A document that does
    /// not parse has no paths, so every unrouted request is then a 404.
    fn new(doc: &'static str) -> Self {
        let parsed: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
        let paths = parsed
            .get("paths")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(m.as_str().to_ascii_lowercase()).is_some())
                    .cloned()
                    .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        OpenApi { doc, paths }
    }

    /// The methods of every documented path that `path` matches, in `Allow` order.
    fn methods_for(&self, path: &str) -> Vec<Method> {
        let matching: Vec<&Vec<Method>> = self
            .paths
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods)
            .collect();
        METHODS
            .iter()
            .filter(|m| matching.iter().any(|methods| methods.contains(m)))
            .cloned()
            .collect()
    }
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render())
}

async fn openapi_doc(doc: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.doc)
}

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// What `/ready` checks: named probes of the service's store and the broker.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn new() -> Self {
        Readiness::default()
    }

    pub fn check<F, Fut>(mut self, name: &'static str, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name, Arc::new(move || Box::pin(probe()))));
        self
    }

    /// Probes the broker by fetching cluster metadata.
    pub fn kafka(self, config: &KafkaConfig) -> Self {
        let config = config.clone();
        self.check("kafka", move || {
            let config = config.clone();
            async move { kafka_reachable(&config).await }
        })
    }

    /// Probes PostgreSQL with `SELECT 1`.
    #[cfg(feature = "postgres")]
    pub fn postgres(self, pool: sqlx::PgPool) -> Self {
        self.check("postgres", move || {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT 1")
                    .execute(&pool)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
    }

    /// Probes Redis with `PING`.
    #[cfg(feature = "redis")]
    pub fn redis(self, conn: redis::aio::ConnectionManager) -> Self {
        self.check("redis", move || {
            let mut conn = conn.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
    }
}

/// Whether the broker answers a metadata request within two seconds.
pub async fn kafka_reachable(config: &KafkaConfig) -> Result<(), String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        let client: BaseConsumer = config.admin_config().create().map_err(|e| e.to_string())?;
        client
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn ready(readiness: web::Data<Readiness>) -> HttpResponse {
    let mut all_ok = true;
    let mut report = serde_json::Map::new();
    for (name, probe) in &readiness.checks {
        let result = tokio::time::timeout(Duration::from_secs(3), probe())
            .await
            .unwrap_or_else(|_| Err("timed out".into()));
        all_ok &= result.is_ok();
        report.insert(
            (*name).to_owned(),
            match result {
                Ok(()) => "ok".into(),
                Err(e) => format!("error: {e}").into(),
            },
        );
    }
    let body = json!({ "status": if all_ok { "ready" } else { "unavailable" }, "checks": report });
    if all_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The trace context of an incoming request, if it sent a valid `traceparent` header.
pub fn traceparent(req: &HttpRequest) -> Option<TraceParent> {
    req.headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "http_requests_total",
        "HTTP requests by method, route and status",
        &["method", "route", "status"]
    )
    .expect("metric registers once")
});

static HTTP_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "http_request_seconds",
        "HTTP request latency by method and route",
        &["method", "route"],
        vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
    )
    .expect("metric registers once")
});

/// Middleware (use with `actix_web::middleware::from_fn(observe)`): one log line and one
/// metric sample per request, labelled by route pattern rather than raw path.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let response = next.call(req).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    HTTP_REQUESTS
        .with_label_values(&[&method, &route, &status.to_string()])
        .inc();
    HTTP_SECONDS
        .with_label_values(&[&method, &route])
        .observe(elapsed.as_secs_f64());
    if route != "/health" && route != "/metrics" {
        tracing::info!(%method, %path, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request");
    }
    Ok(response)
}

/// Runs an HTTP server until `shutdown`, then stops it gracefully (in-flight requests finish).
/// Build the server with `.disable_signals()`: the shutdown token owns signal handling.
pub async fn serve(
    server: actix_web::dev::Server,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    server.await?;
    Ok(())
}

/// Binds `host:port` (port 0 picks a free one) and builds the server every service runs:
/// request logging and metrics, the common endpoints and extractor configs, the service's own
/// `routes` (which also register the app data they use), and [`unrouted`] for anything else.
/// Returns the bound port and the server; run it with [`serve`].
pub fn bind<F>(
    host: &str,
    port: u16,
    readiness: Readiness,
    openapi: &'static str,
    routes: F,
) -> anyhow::Result<(u16, actix_web::dev::Server)>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    use actix_web::{middleware::from_fn, App, HttpServer};

    let listener = std::net::TcpListener::bind((host, port))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(observe))
            .configure(|cfg| configure_common(cfg, readiness.clone(), openapi))
            .configure(routes.clone())
            .default_service(web::to(unrouted))
    })
    .listen(listener)?
    .disable_signals()
    .run();
    Ok((port, server))
}
