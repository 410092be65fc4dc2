//! The errors of a service's start-up and run, one per boundary: [`StartupError`] from the
//! steps of [`crate::service::Startup`], [`RunError`] from its running tasks, and
//! [`ServiceError`] from a service's whole `main` ([`crate::service::main`]).
//!
//! A task is the service's own code, so what it fails with stays an [`anyhow::Error`], kept as
//! the [`RunError::Task`]'s source: typed at the boundary, open inside.

use saga_messaging::producer::ProducerError;
use saga_messaging::topics::RequireError;

/// A step of the start-up sequence failed; the service does not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Step 2: the service's topics (or their dead-letter topics) are not there, or the broker
    /// could not be reached to check them.
    #[error("checking the service's topics")]
    Topics(#[from] RequireError),
    /// Step 3: the HTTP server could not listen on `host:port` (the port is taken, or the
    /// host is not an address of this machine).
    #[error("binding the HTTP server to {host}:{port}")]
    Bind {
        /// `HTTP_HOST`.
        host: String,
        /// `HTTP_PORT`.
        port: u16,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Step 3: the token verifier could not be built (`AUTH_CA_FILE` unreadable).
    #[error("setting up token verification")]
    Auth(#[from] crate::auth::AuthError),
    /// Step 4: the service's Kafka producer, which its outbox relay and its consumer's dead
    /// letters share, could not be created (librdkafka rejected the configuration).
    #[error("creating the service's Kafka producer")]
    Producer(#[from] ProducerError),
}

/// A running service stopped because one of its tasks failed; the others were stopped with it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The task `name` returned an error (the first one to, if several did).
    #[error("{name} failed")]
    Task {
        /// The task's name, as spawned (`http`, `outbox relay`, `consumer`, …).
        name: String,
        /// What it failed with.
        #[source]
        source: anyhow::Error,
    },
    /// The task `name` panicked.
    #[error("{name} panicked")]
    Panicked {
        /// The task's name, as spawned.
        name: String,
        /// The runtime's report of the panic.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Why a service's `main` ([`crate::service::main`], [`crate::service::run`]) ended in failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The service's settings could not be read from the environment (a variable is set to
    /// something unusable).
    #[error("reading the {service} service's settings")]
    Settings {
        /// The service's name.
        service: String,
        /// The service's own error.
        #[source]
        source: anyhow::Error,
    },
    /// The service's start-up failed (its store, its topics, its HTTP server, its tasks).
    #[error("starting the {service} service")]
    Startup {
        /// The service's name.
        service: String,
        /// The service's own error, usually wrapping a [`StartupError`] or its store's.
        #[source]
        source: anyhow::Error,
    },
    /// The async runtime could not be built (the operating system refused its threads).
    #[error("building the {service} service's async runtime")]
    Runtime {
        /// The service's name.
        service: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The service ran, then one of its tasks failed.
    #[error(transparent)]
    Run(#[from] RunError),
}
