//! Topic provisioning: each service creates the topics it uses, and their dead-letter topics,
//! at start-up. Creating a topic that exists is not an error, so this is idempotent.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::contracts::events::EventType;
use crate::messaging::config::{KafkaConfig, BROKER_STARTUP_TIMEOUT};

/// Why a service's topics could not be provisioned.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// The admin client could not be created from the configuration (librdkafka rejected a
    /// setting, e.g. a malformed `KAFKA_BROKERS`); nothing was sent to a broker.
    #[error("creating the Kafka admin client")]
    Admin(#[source] KafkaError),
    /// Some topics were still not created when [`BROKER_STARTUP_TIMEOUT`] ran out: the broker
    /// was unreachable all along, or kept refusing them (too few brokers for the replication
    /// factor, say). The source is the last failure seen.
    #[error("could not create topics on {brokers} within {timeout:?}")]
    NotCreated {
        /// The bootstrap servers asked.
        brokers: String,
        /// How long creation was retried.
        timeout: Duration,
        /// The last failure seen.
        #[source]
        last: CreateFailure,
    },
}

/// One failed attempt at creating topics.
#[derive(Debug, thiserror::Error)]
pub enum CreateFailure {
    /// The create-topics request as a whole failed (no broker answered, or it timed out).
    #[error("the create-topics request failed")]
    Request(#[source] KafkaError),
    /// The broker refused one topic, with `code` (other than "already exists").
    #[error("{topic}: {code}")]
    Topic {
        /// The topic refused.
        topic: String,
        /// The broker's answer.
        code: RDKafkaErrorCode,
    },
}

/// Creates `<topic>` and `<topic>.dlq` for each event type, retrying while the broker starts.
pub async fn ensure_topics(
    config: &KafkaConfig,
    event_types: &[EventType],
) -> Result<(), TopicError> {
    let mut names: Vec<String> = Vec::new();
    for &t in event_types {
        names.push(config.topic(t));
        names.push(config.dlq_topic(t));
    }
    names.sort();
    names.dedup();
    ensure_named_topics(config, &names).await
}

/// Creates the named topics (with the configured partitions, replication factor and
/// `min.insync.replicas`) if they do not exist, retrying while the broker starts (up to
/// [`BROKER_STARTUP_TIMEOUT`]). A topic that exists is left as it is.
pub async fn ensure_named_topics(config: &KafkaConfig, names: &[String]) -> Result<(), TopicError> {
    let admin: AdminClient<DefaultClientContext> =
        config.admin_config().create().map_err(TopicError::Admin)?;
    let min_insync = config.min_insync_replicas.map(|n| n.to_string());
    let new_topics: Vec<NewTopic> = names
        .iter()
        .map(|n| new_topic(config, n, min_insync.as_deref()))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let started = Instant::now();
    let mut pending = new_topics;
    loop {
        let mut retry = Vec::new();
        let mut last_error = None;
        match admin.create_topics(pending.iter(), &options).await {
            Ok(results) => {
                for (topic, result) in pending.iter().zip(results) {
                    match result {
                        Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                        Err((name, code)) => {
                            last_error = Some(CreateFailure::Topic { topic: name, code });
                            retry.push(new_topic(config, topic.name, min_insync.as_deref()));
                        }
                    }
                }
            }
            Err(e) => {
                last_error = Some(CreateFailure::Request(e));
                retry = pending;
            }
        }
        // Every topic not created has set `last_error`.
        let Some(last) = last_error.filter(|_| !retry.is_empty()) else {
            return Ok(());
        };
        if started.elapsed() > BROKER_STARTUP_TIMEOUT {
            return Err(TopicError::NotCreated {
                brokers: config.brokers.clone(),
                timeout: BROKER_STARTUP_TIMEOUT,
                last,
            });
        }
        tracing::warn!(
            error = %format!("{:#}", anyhow::Error::new(last)),
            "topic creation failed; retrying"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        pending = retry;
    }
}

/// A topic to create: the configured partitions and replication factor, and
/// `min.insync.replicas` when `KAFKA_MIN_INSYNC_REPLICAS` sets it.
fn new_topic<'a>(config: &KafkaConfig, name: &'a str, min_insync: Option<&'a str>) -> NewTopic<'a> {
    let topic = NewTopic::new(
        name,
        config.partitions,
        TopicReplication::Fixed(config.replication_factor),
    );
    match min_insync {
        Some(n) => topic.set("min.insync.replicas", n),
        None => topic,
    }
}
