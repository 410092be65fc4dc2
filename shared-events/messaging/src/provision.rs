//! The operator's step: the topics of every event (and their dead-letter topics) in a namespace,
//! and each service's access rules on them ([`crate::acl`]).
//!
//! It runs with the operator's principal, which may create topics and rules; the services' own
//! principals may do neither. `scripts/start` runs it through the `provision` binary, compose
//! in its `provision` service, and the test kit for each test's namespace. Everything it does
//! is idempotent.

use std::time::{Duration, Instant};

use crate::acl::{service_rules, AclRule};
use crate::acl_admin::{create_acls, AclError};
use crate::config::{KafkaConfig, BROKER_STARTUP_TIMEOUT};
use crate::env::{ConfigError, Env};
use crate::topics::{ensure_named_topics, service_topics, TopicError};
use saga_contracts::events::EventType;
use saga_contracts::services::ServiceEvents;

/// The principal provisioning runs as, the operator's (a super user of the broker).
pub const OPERATOR: &str = "operator";

/// What the `provision` binary reads from `env`: the broker's settings, as [`OPERATOR`] unless
/// `KAFKA_SASL_USERNAME` says otherwise.
pub fn settings(env: &Env) -> Result<KafkaConfig, ConfigError> {
    KafkaConfig::read(env, OPERATOR)
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The topics could not be created.
    #[error("creating the topics")]
    Topics(#[from] TopicError),
    /// The access rules could not be created.
    #[error("creating the access rules")]
    Acls(#[from] AclError),
}

/// What provisioning made sure of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The topics, sorted.
    pub topics: Vec<String>,
    /// The access rules, sorted.
    pub rules: Vec<AclRule>,
}

/// The topics and rules of `services` in `config`'s namespace, without touching the broker.
pub fn plan(config: &KafkaConfig, services: &[ServiceEvents]) -> Provisioned {
    let mut topics: Vec<String> = services
        .iter()
        .flat_map(|s| service_topics(config, s.publishes, s.consumes))
        .collect();
    // Every event's topic has a dead-letter topic, consumed or not yet, as before.
    topics.extend(EventType::ALL.iter().flat_map(|&t| {
        services
            .iter()
            .any(|s| s.publishes.contains(&t) || s.consumes.contains(&t))
            .then(|| [config.topic(t), config.dlq_topic(t)])
            .into_iter()
            .flatten()
    }));
    topics.sort();
    topics.dedup();
    let mut rules: Vec<AclRule> = services
        .iter()
        .flat_map(|s| service_rules(config, s))
        .collect();
    rules.sort();
    rules.dedup();
    Provisioned { topics, rules }
}

/// Creates the topics and rules of `services` in `config`'s namespace, as `config`'s principal
/// (the operator), retrying while the broker starts.
pub async fn provision(
    config: &KafkaConfig,
    services: &[ServiceEvents],
) -> Result<Provisioned, ProvisionError> {
    let planned = plan(config, services);
    ensure_named_topics(config, &planned.topics).await?;
    let started = Instant::now();
    loop {
        match create_acls(config, &planned.rules, Duration::from_secs(10)).await {
            Ok(()) => return Ok(planned),
            Err(AclError::Request { message }) if started.elapsed() < BROKER_STARTUP_TIMEOUT => {
                tracing::warn!(error = %message, "creating ACL rules failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saga_contracts::services::{BILLING, SERVICES};

    #[test]
    fn the_plan_covers_every_event_and_its_dead_letters_and_every_service() {
        let config = KafkaConfig {
            topic_prefix: "t9.".into(),
            ..KafkaConfig::default()
        };
        let all = plan(&config, &SERVICES);
        assert_eq!(all.topics.len(), 2 * EventType::ALL.len());
        let principals: std::collections::BTreeSet<&str> =
            all.rules.iter().map(|r| r.principal.as_str()).collect();
        assert_eq!(principals.len(), SERVICES.len());
        let billing = plan(&config, &[BILLING]);
        assert!(billing.topics.contains(&"t9.order.created.dlq".to_owned()));
        assert!(!billing.topics.contains(&"t9.stock.reserved".to_owned()));
        assert!(billing.rules.iter().all(|r| r.principal == "User:billing"));
    }
}
