//! The start-up sequence, in the one order every service follows:
//! 1. the store, opened and migrated by the service: [`Startup::new`], [`Startup::postgres`];
//! 2. the topics it publishes to and consumes: [`Startup::topics`];
//! 3. the HTTP server, bound and started: [`Startup::bind`], which gives the [`Application`];
//! 4. the long-running tasks (outbox relay, consumer, timers): [`Application::spawn`].
//!
//! `/ready` checks the store's probe ([`Startup::ready_when`]) and the broker.

use std::future::Future;

use actix_web::web;

use crate::auth::Verifier;
use crate::http::{bind, document, serve, HttpServer, Readiness, Routes};
use crate::service::{Application, ServiceSettings, StartupError};
use crate::tasks::Tasks;
use crate::CancellationToken;
use saga_contracts::events::EventType;

/// A service being started: steps 1 and 2 of the sequence.
pub struct Startup<S> {
    /// Where to listen and which broker to use.
    settings: ServiceSettings,
    /// Stops every task of the service; cancelled on a signal or when a task fails.
    shutdown: CancellationToken,
    /// The service's store handle, kept by the [`Application`] (tests look inside through it).
    store: S,
    /// The probes `/ready` runs; the broker's is added at [`Startup::bind`].
    readiness: Readiness,
}

impl<S> Startup<S> {
    /// Step 1: the service's store, already open and migrated.
    pub fn new(settings: ServiceSettings, shutdown: CancellationToken, store: S) -> Self {
        Startup {
            settings,
            shutdown,
            store,
            readiness: Readiness::new(),
        }
    }

    /// The store handle, for the routes' app data and the tasks still to spawn.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// `/ready` also runs `probe`, reported under `name` (the store's kind).
    pub fn ready_when<F, Fut>(mut self, name: &'static str, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.readiness = self.readiness.check(name, probe);
        self
    }

    /// Step 2: checks that the topics of the events the service publishes and consumes (its
    /// `saga::PUBLISHES` and `saga::CONSUMES`) and the dead-letter topics of those it consumes
    /// exist, waiting for the broker while it starts. A service never creates topics (its
    /// principal may not): it fails here, naming what is missing, until the operator has
    /// provisioned them.
    pub async fn topics(
        self,
        publishes: &[EventType],
        consumes: &[EventType],
    ) -> Result<Self, StartupError> {
        let kafka = &self.settings.kafka;
        let names = saga_messaging::topics::service_topics(kafka, publishes, consumes);
        saga_messaging::topics::require_topics(kafka, &names).await?;
        Ok(self)
    }

    /// Step 3: binds the HTTP server ([`crate::http::bind`]: the common endpoints, then the
    /// service's `routes`, whose handlers find `data` as app data, then JSON 404s and 405s) and
    /// starts it as the task `http`. `openapi` is the document of the service's own routes
    /// (its `routes::openapi()`); `routes` is usually its `routes::configure`, and a closure
    /// may add app data of its own (orders' saga feed gets the shutdown token that way).
    pub fn bind<T, R>(
        self,
        openapi: utoipa::openapi::OpenApi,
        data: web::Data<T>,
        routes: R,
    ) -> Result<Application<S>, StartupError>
    where
        T: ?Sized + Send + Sync + 'static,
        R: Fn(&mut Routes) + Clone + Send + 'static,
    {
        let settings = self.settings;
        let verifier = Verifier::new(&settings.auth)?;
        let bound = bind(HttpServer {
            host: settings.http_host.clone(),
            port: settings.http_port,
            workers: settings.http_workers,
            readiness: self.readiness.kafka(&settings.kafka),
            document: document(openapi),
            verifier,
            routes: move |r: &mut Routes| {
                r.app_data(data.clone());
                routes(r);
            },
        });
        let (port, server) = bound.map_err(|source| StartupError::Bind {
            host: settings.http_host.clone(),
            port: settings.http_port,
            source,
        })?;
        let mut tasks = Tasks::new(self.shutdown.clone());
        let shutdown = self.shutdown;
        tasks.spawn("http", async move { Ok(serve(server, shutdown).await?) });
        Ok(Application::new(port, self.store, settings.kafka, tasks))
    }
}

#[cfg(feature = "postgres")]
impl Startup<sqlx::PgPool> {
    /// Step 1 for a PostgreSQL service: its pool (see [`saga_messaging::postgres::open`]), which `/ready`
    /// probes as `postgres`.
    pub fn postgres(
        settings: ServiceSettings,
        shutdown: CancellationToken,
        pool: sqlx::PgPool,
    ) -> Self {
        let readiness = Readiness::new().postgres(pool.clone());
        Startup {
            readiness,
            ..Startup::new(settings, shutdown, pool)
        }
    }
}

#[cfg(feature = "redis")]
impl Startup<redis::aio::ConnectionManager> {
    /// Step 1 for a Redis service: its connection (see [`saga_messaging::redis_store::connect`]), which
    /// `/ready` probes as `redis`.
    pub fn redis(
        settings: ServiceSettings,
        shutdown: CancellationToken,
        conn: redis::aio::ConnectionManager,
    ) -> Self {
        let readiness = Readiness::new().redis(conn.clone());
        Startup {
            readiness,
            ..Startup::new(settings, shutdown, conn)
        }
    }
}
