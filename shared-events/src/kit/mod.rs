//! The service kit: what every service's `main`, start-up and tests share, so that a service
//! crate keeps only its domain, its store, its routes and its saga handlers.
//!
//! - [`service`]: the settings every service reads and the one start-up sequence;
//! - [`auth`] (feature `http`): bearer tokens verified against the OpenID Connect issuer, the
//!   caller they prove, and the role and ownership checks of SPEC §7;
//! - [`http`] (feature `http`): errors, extractors, routes, OpenAPI, ops endpoints, readiness,
//!   middleware and the server;
//! - [`telemetry`], [`tasks`], [`shutdown`]: logging, the long-running tasks under one
//!   shutdown token, and the token itself;
//! - [`testing`] (feature `testing`): the test kit over the real local stack.

#[cfg(feature = "http")]
pub mod auth;
#[cfg(feature = "http")]
pub mod http;
pub mod service;
pub mod shutdown;
pub mod tasks;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
