//! Fixtures for integration tests against the real local stack (feature `testing`), for the
//! runtime's own tests and for everything built on it (the service kit's test kit, the
//! services' tests, the end-to-end suite):
//! - [`database`]: a fresh PostgreSQL database per test, owned by the test's service role;
//! - (with feature `mongodb`) [`mongodb`]: a fresh MongoDB database per test;
//! - [`kafka`]: a topic namespace of its own per test, and readers of its topics, up to a
//!   condition or to their end;
//! - [`lag`]: how far consumer groups are behind their topics' ends, and a wait until they
//!   have caught up;
//! - [`settle`]: a wait until a service has nothing more to emit (its group caught up, its
//!   outbox empty), which with [`read_to_end`] shows what it did *not* emit;
//! - [`wait`]: waits on conditions with a deadline instead of fixed sleeps;
//! - (with feature `redis`) [`redis`]: Redis as notification and as the operator, and a
//!   `redis-server` of a test's own with the stack's TLS and ACL users.

pub mod database;
pub mod kafka;
pub mod lag;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "redis")]
pub mod redis;
pub mod settle;
pub mod wait;

#[cfg(feature = "mongodb")]
pub use self::mongodb::{
    fresh_mongo_database, mongodb_client, mongodb_url, operator_client, operator_options,
};
#[cfg(feature = "redis")]
pub use self::redis::{
    delete_keys_blocking, redis_admin_settings, redis_connection, redis_server_command,
    redis_settings,
};
pub use database::{
    admin_connect_options, admin_connection, admin_database_url, fresh_database,
    fresh_database_url, fresh_database_url_on, ADMIN_PASSWORD_VARIABLE, TEST_DATABASE_PREFIX,
};
pub use kafka::{
    header, in_publish_order, isolated_kafka, provisioned_kafka, read_to_end, read_until, reader,
    reader_of, watermarks, Watermarks,
};
pub use lag::{behind, positions, positions_of, wait_caught_up, Group, Position};
pub use settle::{relayed_up_to, wait_relayed, wait_settled};
pub use wait::{wait_for, wait_until, PATIENCE};
