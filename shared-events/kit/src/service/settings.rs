//! The settings every service reads the same way, from the environment with defaults that let
//! it start against the local stack with no variable set (SPEC §6). A service's own `Settings`
//! embeds [`ServiceSettings`] next to what is its alone (its store's URL, its timeouts). A
//! PostgreSQL service's settings are [`PgServiceSettings`]: those and its database's
//! (`DATABASE_*`). Each reads through an [`Env`], so that a test can learn which variables it
//! reads.

use std::num::NonZeroUsize;

use crate::auth::AuthSettings;
use saga_messaging::env::{ConfigError, Env};
#[cfg(feature = "postgres")]
use saga_messaging::postgres::PgSettings;
use saga_messaging::KafkaConfig;

/// Where a service listens unless `HTTP_HOST` says otherwise: every interface, so that it is
/// reachable from outside its container.
pub const DEFAULT_HTTP_HOST: &str = "0.0.0.0";

/// How many HTTP worker threads a service runs unless `HTTP_WORKERS` says otherwise. One: each
/// worker serves many connections at once on its own event loop, and a handler mostly waits on
/// its store, so a second thread adds wake-ups and context switches more than capacity
/// (docs/performance.md).
pub const DEFAULT_HTTP_WORKERS: NonZeroUsize = NonZeroUsize::MIN;

/// The HTTP listener and the broker, as every service configures them.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// `HTTP_HOST` (default [`DEFAULT_HTTP_HOST`]): the interface to listen on; tests listen on
    /// `127.0.0.1` only.
    pub http_host: String,
    /// `HTTP_PORT` (default the service's port of SPEC §1): 0 picks a free port, as the tests
    /// do; the running application tells which one it got.
    pub http_port: u16,
    /// `HTTP_WORKERS` (default [`DEFAULT_HTTP_WORKERS`]): the HTTP server's worker threads; 0
    /// is refused.
    pub http_workers: NonZeroUsize,
    /// `KAFKA_*` ([`KafkaConfig`]): the broker, and the namespace that the service's topics and
    /// consumer group live in.
    pub kafka: KafkaConfig,
    /// `AUTH_*` ([`AuthSettings`]): the identity provider whose tokens the API accepts.
    pub auth: AuthSettings,
}

impl ServiceSettings {
    /// Reads `HTTP_HOST`, `HTTP_PORT` (default `default_port`), `HTTP_WORKERS`, the `KAFKA_*` variables (the
    /// Kafka principal defaults to `service`) and the `AUTH_*` ones.
    pub fn read(
        env: &Env,
        service: &str,
        default_port: u16,
    ) -> Result<ServiceSettings, ConfigError> {
        Ok(ServiceSettings {
            http_host: env.or("HTTP_HOST", DEFAULT_HTTP_HOST.to_owned())?,
            http_port: env.or("HTTP_PORT", default_port)?,
            http_workers: env.or("HTTP_WORKERS", DEFAULT_HTTP_WORKERS)?,
            kafka: KafkaConfig::read(env, service)?,
            auth: AuthSettings::read(env)?,
        })
    }

    /// A free port on the loopback interface, with `kafka`, trusting the local stack's
    /// identity provider: how a test runs a service.
    pub fn loopback(kafka: KafkaConfig) -> ServiceSettings {
        ServiceSettings {
            http_host: "127.0.0.1".into(),
            http_port: 0,
            http_workers: DEFAULT_HTTP_WORKERS,
            kafka,
            auth: AuthSettings::local(),
        }
    }
}

#[cfg(feature = "postgres")]
/// The settings of a service whose store is one PostgreSQL database: [`ServiceSettings`] and
/// the database's.
#[derive(Debug, Clone)]
pub struct PgServiceSettings {
    /// `HTTP_HOST`, `HTTP_PORT` and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `DATABASE_URL` (default the local database named after the service, as the role of
    /// that name: [`local_database_url`](saga_messaging::postgres::local_database_url)),
    /// `DATABASE_PASSWORD` (or `…_FILE`) and `DATABASE_MAX_CONNECTIONS`: the service's store.
    pub database: PgSettings,
}

#[cfg(feature = "postgres")]
impl PgServiceSettings {
    /// Reads [`ServiceSettings`] (`HTTP_PORT` default `default_port`) and the database's
    /// settings ([`PgSettings::read`]: by default the local database `default_database` as the
    /// role of that name).
    pub fn read(env: &Env, default_port: u16, default_database: &str) -> Result<Self, ConfigError> {
        Ok(PgServiceSettings {
            service: ServiceSettings::read(env, default_database, default_port)?,
            database: PgSettings::read(env, default_database)?,
        })
    }

    /// A test's service: a free loopback port, `kafka` and the database at `database_url`.
    pub fn loopback(kafka: KafkaConfig, database_url: String) -> Self {
        PgServiceSettings {
            service: ServiceSettings::loopback(kafka),
            database: PgSettings::at(database_url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_service_listens_on_a_free_loopback_port() {
        let kafka = KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        let s = ServiceSettings::loopback(kafka);
        assert_eq!((s.http_host.as_str(), s.http_port), ("127.0.0.1", 0));
        assert_eq!(s.kafka.topic_prefix, "t1.");
    }

    #[test]
    fn http_workers_default_to_one_and_zero_is_refused() {
        use saga_messaging::env::Vars;
        let read = |workers: &str| {
            let vars = Vars::new([("HTTP_WORKERS", workers), ("KAFKA_SASL_PASSWORD", "p")]);
            ServiceSettings::read(&Env::new(&vars), "orders", 8002)
        };
        assert_eq!(read("").expect("defaults").http_workers.get(), 1);
        assert_eq!(read("3").expect("three workers").http_workers.get(), 3);
        let zero = read("0").expect_err("0 workers");
        assert!(zero.to_string().contains("HTTP_WORKERS"), "{zero}");
    }
}
