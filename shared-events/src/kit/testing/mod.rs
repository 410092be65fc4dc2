//! Helpers for integration tests against the real local stack (feature `testing`):
//! - [`database`]: a fresh PostgreSQL database per test, owned by the test's service role;
//! - (with feature `mongodb`) [`mongodb`]: a fresh MongoDB database per test;
//! - [`kafka`]: a topic namespace of its own per test, and readers of its topics;
//! - [`wait`]: waits on conditions with a deadline instead of fixed sleeps;
//! - [`client`]: an HTTP client that answers with the status and the JSON body, carrying a
//!   bearer token (the operator's unless told otherwise);
//! - [`identity`]: access tokens of the realm's development accounts from the stack's Keycloak;
//! - [`access`]: assertions that a request is refused 401 without a valid token, or 403 for
//!   an account that may not make it;
//! - [`errors`] and [`ops`]: assertions on SPEC §4's error body and operational endpoints;
//! - (with feature `http`) [`service`]: a service started on a free port for one test;
//! - (with feature `redis`) [`redis`]: Redis as notification and as the operator, and a
//!   `redis-server` of a test's own with the stack's TLS and ACL users.

pub mod access;
pub mod client;
pub mod database;
pub mod errors;
pub mod identity;
pub mod kafka;
#[cfg(feature = "mongodb")]
pub mod mongodb;
pub mod ops;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "http")]
pub mod service;
pub mod wait;

#[cfg(feature = "mongodb")]
pub use self::mongodb::{fresh_mongo_database, mongodb_client, mongodb_url, operator_client};
#[cfg(feature = "redis")]
pub use self::redis::{
    delete_keys_blocking, redis_admin_settings, redis_connection, redis_server_command,
    redis_settings,
};
pub use access::{assert_closed, assert_forbidden, Call};
pub use client::{Bearer, TestClient};
pub use database::{
    admin_connect_options, admin_connection, admin_database_url, fresh_database,
    fresh_database_url, fresh_database_url_on, ADMIN_PASSWORD_VARIABLE, TEST_DATABASE_PREFIX,
};
pub use errors::assert_error;
pub use identity::Account;
pub use kafka::{
    header, isolated_kafka, provisioned_kafka, read_quiet, read_until, reader, reader_of,
};
pub use ops::{assert_ops_endpoints, Ops};
#[cfg(feature = "http")]
pub use service::TestService;
pub use wait::{wait_for, PATIENCE};
