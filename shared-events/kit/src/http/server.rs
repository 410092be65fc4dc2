//! The HTTP server every service runs: [`bind`] builds it from an [`HttpServer`] (where, what
//! `/ready` probes, the document, the token verifier, the service's routes), [`serve`] runs it until shutdown.
//! [`configure_app`] is the app itself, for tests that call it in-process.

use actix_web::{web, HttpServer as ActixServer};

use super::extract::{json_config, path_config, query_config, DEFAULT_BODY_LIMIT};
use super::{ops, Document, Readiness, RouteTable, Routes};
use crate::auth::Verifier;

/// What a service's HTTP server is made of.
pub struct HttpServer<F> {
    /// The address to listen on (`HTTP_HOST`).
    pub host: String,
    /// The port to listen on; 0 picks a free one (tests).
    pub port: u16,
    /// The worker threads, each an event loop serving many connections (`HTTP_WORKERS`).
    pub workers: std::num::NonZeroUsize,
    /// What `/ready` probes.
    pub readiness: Readiness,
    /// The service's OpenAPI document, served at `/openapi.json`.
    pub document: Document,
    /// Checks the bearer token of every request to a route that is not public.
    pub verifier: Verifier,
    /// Registers the service's own routes: usually its `routes::configure`; a closure may add
    /// app data of its own first.
    pub routes: F,
}

/// The state every app of one server shares: built once, handed to each worker.
#[derive(Clone)]
pub struct Site<F> {
    /// What `/ready` probes.
    readiness: web::Data<Readiness>,
    /// What `/openapi.json` serves.
    document: web::Data<Document>,
    /// What [`crate::auth::authenticate`] checks tokens with.
    verifier: web::Data<Verifier>,
    /// Every route served, the operational ones included, for [`ops::unrouted`].
    table: web::Data<RouteTable>,
    /// The service's own routes.
    routes: F,
}

impl<F> Site<F>
where
    F: Fn(&mut Routes),
{
    /// The site of a service: its routes' table is taken here, once.
    pub fn new(readiness: Readiness, document: Document, verifier: Verifier, routes: F) -> Self {
        let table = RouteTable::of(|r| {
            ops::configure(r);
            routes(r);
        });
        Site {
            readiness: web::Data::new(readiness),
            document: web::Data::new(document),
            verifier: web::Data::new(verifier),
            table: web::Data::new(table),
            routes,
        }
    }

    /// Every route the site serves.
    pub fn table(&self) -> &RouteTable {
        &self.table
    }
}

/// The whole app on `cfg`: extractor configs, the operational endpoints, the service's
/// routes, and [`ops::unrouted`] for anything else.
pub fn configure_app<F>(cfg: &mut web::ServiceConfig, site: &Site<F>)
where
    F: Fn(&mut Routes),
{
    cfg.app_data(json_config(DEFAULT_BODY_LIMIT))
        .app_data(path_config())
        .app_data(query_config())
        .app_data(site.readiness.clone())
        .app_data(site.document.clone())
        .app_data(site.verifier.clone())
        .app_data(site.table.clone())
        .default_service(web::to(ops::unrouted));
    // Each worker registers anew; what it records is already in the site's table.
    let mut table = RouteTable::default();
    let mut routes = Routes::new(cfg, &mut table);
    ops::configure(&mut routes);
    (site.routes)(&mut routes);
}

/// Binds `host:port` and builds the server: [`super::observe`] around
/// [`crate::auth::authenticate`] around [`configure_app`].
/// Returns the bound port and the server; run it with [`serve`].
pub fn bind<F>(server: HttpServer<F>) -> std::io::Result<(u16, actix_web::dev::Server)>
where
    F: Fn(&mut Routes) + Clone + Send + 'static,
{
    use actix_web::{middleware::from_fn, App};

    let listener = std::net::TcpListener::bind((server.host.as_str(), server.port))?;
    let port = listener.local_addr()?.port();
    let site = Site::new(
        server.readiness,
        server.document,
        server.verifier,
        server.routes,
    );
    let server = ActixServer::new(move || {
        App::new()
            .wrap(from_fn(crate::auth::authenticate))
            .wrap(from_fn(super::observe))
            .configure(|cfg| configure_app(cfg, &site))
    })
    .workers(server.workers.get())
    .listen(listener)?
    .disable_signals()
    .run();
    Ok((port, server))
}

/// Runs an HTTP server until `shutdown`, then stops it gracefully (in-flight requests finish).
/// Build the server with `.disable_signals()`: the shutdown token owns signal handling.
pub async fn serve(
    server: actix_web::dev::Server,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    let handle = server.handle();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.stop(true).await;
    });
    server.await
}
