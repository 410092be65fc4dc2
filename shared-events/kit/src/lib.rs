//! The service kit: what every service's `main`, start-up, HTTP boundary and tests share, so
//! that a service crate keeps only its domain, its store, its routes and its saga handlers.
//!
//! It sits on the messaging runtime (`saga-messaging`) and the contracts (`saga-contracts`),
//! and adds the HTTP side (actix-web, utoipa, bearer tokens); nothing below depends on it, and
//! the `dlq` tool does not use it. The features `postgres` and `redis` turn on that store's
//! step of the start-up (and the runtime's adapter for it); `testing` turns on the test kit.
//!
//! - [`service`]: the settings every service reads and the one start-up sequence;
//! - [`auth`]: bearer tokens verified against the OpenID Connect issuer, the caller they
//!   prove, and the role and ownership checks of SPEC §7;
//! - [`http`]: errors, extractors, routes, OpenAPI, ops endpoints, readiness, middleware and
//!   the server;
//! - [`telemetry`], [`tasks`], [`shutdown`]: logging, the long-running tasks under one
//!   shutdown token, and the token itself;
//! - [`testing`] (feature `testing`): the service-level test kit over the real local stack (an
//!   HTTP client with tokens, a service on a free port, assertions on SPEC's errors and
//!   endpoints), on top of the runtime's fixtures (`saga_messaging::testing`).

#![warn(missing_docs)]

pub mod auth;
pub mod http;
pub mod service;
pub mod shutdown;
pub mod tasks;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use shutdown::CancellationToken;
