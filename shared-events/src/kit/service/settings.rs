//! The settings every service reads the same way, from the environment with defaults that let
//! it start against the local stack with no variable set (SPEC §6). A service's own `Settings`
//! embeds [`ServiceSettings`] next to what is its alone (its store's URL, its timeouts). A
//! PostgreSQL service's settings are [`crate::messaging::postgres::PgServiceSettings`].

#[cfg(feature = "http")]
use crate::kit::auth::AuthSettings;
use crate::messaging::env::{env_or, ConfigError};
use crate::KafkaConfig;

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
    #[cfg(feature = "http")]
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
            #[cfg(feature = "http")]
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
            #[cfg(feature = "http")]
            auth: AuthSettings::local(),
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
