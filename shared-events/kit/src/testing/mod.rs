//! Helpers for integration tests against the real local stack (feature `testing`), on top of
//! the runtime's fixtures (`saga_messaging::testing`: fresh databases, topic namespaces, waits):
//! - [`client`]: an HTTP client that answers with the status and the JSON body, carrying a
//!   bearer token (the operator's unless told otherwise);
//! - [`identity`]: access tokens of the realm's development accounts from the stack's Keycloak;
//! - [`access`]: assertions that a request is refused 401 without a valid token, or 403 for
//!   an account that may not make it;
//! - [`errors`] and [`ops`]: assertions on SPEC §4's error body and operational endpoints;
//! - [`service`]: a service started on a free port for one test.

pub mod access;
pub mod client;
pub mod errors;
pub mod identity;
pub mod ops;
pub mod service;

pub use access::{assert_closed, assert_forbidden, Call};
pub use client::{Bearer, TestClient};
pub use errors::assert_error;
pub use identity::Account;
pub use ops::{assert_ops_endpoints, Ops};
pub use service::TestService;
