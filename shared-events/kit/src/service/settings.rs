//! The settings every service reads the same way, from the environment with defaults that let
//! it start against the local stack with no variable set (SPEC §6). A service's own `Settings`
//! embeds [`ServiceSettings`] next to what is its alone (its store's URL, its timeouts). A
//! PostgreSQL service's settings are [`PgServiceSettings`]: those and `DATABASE_URL`.

use crate::auth::AuthSettings;
use saga_messaging::env::{env_or, ConfigError};
#[cfg(feature = "postgres")]
use saga_messaging::postgres::{database_url, PASSWORD_VARIABLE};
#[cfg(feature = "postgres")]
use saga_messaging::secret::env_secret;
use saga_messaging::KafkaConfig;

/// Where a service listens unless `HTTP_HOST` says otherwise: every interface, so that it is
/// reachable from outside its container.
pub const DEFAULT_HTTP_HOST: &str = "0.0.0.0";

/// The HTTP listener and the broker, as every service configures them.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// `HTTP_HOST` (default [`DEFAULT_HTTP_HOST`]): the interface to listen on; tests listen on
    /// `127.0.0.1` only.
    pub http_host: String,
    /// `HTTP_PORT` (default the service's port of SPEC §1): 0 picks a free port, as the tests
    /// do; the running application tells which one it got.
    pub http_port: u16,
    /// `KAFKA_*` ([`KafkaConfig`]): the broker, and the namespace that the service's topics and
    /// consumer group live in.
    pub kafka: KafkaConfig,
    /// `AUTH_*` ([`AuthSettings`]): the identity provider whose tokens the API accepts.
    pub auth: AuthSettings,
}

impl ServiceSettings {
    /// Reads `HTTP_HOST`, `HTTP_PORT` (default `default_port`) and the `KAFKA_*` variables (the
    /// Kafka principal defaults to `service`).
    pub fn from_env(service: &str, default_port: u16) -> Result<ServiceSettings, ConfigError> {
        Ok(ServiceSettings {
            http_host: env_or("HTTP_HOST", DEFAULT_HTTP_HOST.to_owned())?,
            http_port: env_or("HTTP_PORT", default_port)?,
            kafka: KafkaConfig::from_env(service)?,
            auth: AuthSettings::from_env()?,
        })
    }

    /// A free port on the loopback interface, with `kafka`, trusting the local stack's
    /// identity provider: how a test runs a service.
    pub fn loopback(kafka: KafkaConfig) -> ServiceSettings {
        ServiceSettings {
            http_host: "127.0.0.1".into(),
            http_port: 0,
            kafka,
            auth: AuthSettings::local(),
        }
    }
}

#[cfg(feature = "postgres")]
/// The settings of a service whose store is one PostgreSQL database: [`ServiceSettings`] and
/// `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct PgServiceSettings {
    /// `HTTP_HOST`, `HTTP_PORT` and the broker, as every service reads them.
    pub service: ServiceSettings,
    /// `DATABASE_URL` (default the local database named after the service, as the role of
    /// that name: [`local_database_url`](saga_messaging::postgres::local_database_url)): the service's store. Its password, if it has none,
    /// is found when connecting ([`connect_options`](saga_messaging::postgres::connect_options)).
    pub database_url: String,
}

#[cfg(feature = "postgres")]
impl PgServiceSettings {
    /// Reads [`ServiceSettings`] (`HTTP_PORT` default `default_port`) and `DATABASE_URL`
    /// (default the local database `default_database` as the role of that name), and checks
    /// that `DATABASE_PASSWORD` and `DATABASE_PASSWORD_FILE` are not both set.
    pub fn from_env(default_port: u16, default_database: &str) -> Result<Self, ConfigError> {
        let database_url = database_url(default_database)?;
        env_secret(PASSWORD_VARIABLE)?;
        Ok(PgServiceSettings {
            service: ServiceSettings::from_env(default_database, default_port)?,
            database_url,
        })
    }

    /// A test's service: a free loopback port, `kafka` and the database at `database_url`.
    pub fn loopback(kafka: KafkaConfig, database_url: String) -> Self {
        PgServiceSettings {
            service: ServiceSettings::loopback(kafka),
            database_url,
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
}
