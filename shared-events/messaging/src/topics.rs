//! Topics: the operator creates them ([`ensure_topics`], from [`crate::provision`]),
//! and a service only checks at start-up that the ones it uses are there ([`require_topics`]):
//! its principal may not create topics. Creating a topic that exists is not an error, so
//! provisioning is idempotent.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::config::{KafkaConfig, BROKER_STARTUP_TIMEOUT};
use saga_contracts::events::EventType;

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

/// Why a service cannot start on its topics.
#[derive(Debug, thiserror::Error)]
pub enum RequireError {
    /// The metadata client could not be created from the configuration; nothing was sent.
    #[error("creating the Kafka metadata client")]
    Client(#[source] KafkaError),
    /// No broker answered a metadata request within [`BROKER_STARTUP_TIMEOUT`] (unreachable,
    /// or the client's TLS or SASL settings are refused). The source is the last failure.
    #[error("could not read topic metadata from {brokers} within {timeout:?}")]
    Unreachable {
        /// The bootstrap servers asked.
        brokers: String,
        /// How long it was retried.
        timeout: Duration,
        /// The last failure.
        #[source]
        last: KafkaError,
    },
    /// The broker answered, and some topics the service uses are not there, or its principal
    /// may not see them. Topics are the operator's to provision.
    #[error(
        "topics missing on {brokers}: [{}]{}; the operator provisions them (scripts/start runs \
         `provision`; in compose, the provision service)",
        .missing.join(", "),
        if .unauthorized.is_empty() { String::new() } else {
            format!("; not authorized to describe: [{}]", .unauthorized.join(", "))
        }
    )]
    Missing {
        /// The bootstrap servers asked.
        brokers: String,
        /// The topics that do not exist.
        missing: Vec<String>,
        /// The topics the service's principal may not describe (its ACLs are not provisioned).
        unauthorized: Vec<String>,
    },
}

/// The topics a service uses: those of the events it publishes and consumes, and the
/// dead-letter topics of the events it consumes.
pub fn service_topics(
    config: &KafkaConfig,
    publishes: &[EventType],
    consumes: &[EventType],
) -> Vec<String> {
    let mut names: Vec<String> = publishes
        .iter()
        .chain(consumes)
        .map(|&t| config.topic(t))
        .chain(consumes.iter().map(|&t| config.dlq_topic(t)))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Checks that every topic in `names` exists and is visible to the client's principal, waiting
/// for the broker while it starts; fails at once (after a short grace for metadata that is
/// still propagating) naming the topics that are missing.
pub async fn require_topics(config: &KafkaConfig, names: &[String]) -> Result<(), RequireError> {
    use rdkafka::consumer::BaseConsumer;

    if names.is_empty() {
        return Ok(());
    }
    let client: BaseConsumer = config
        .admin_config()
        .create()
        .map_err(RequireError::Client)?;
    let client = std::sync::Arc::new(client);
    let started = Instant::now();
    let mut answered_at: Option<Instant> = None;
    loop {
        let (c, wanted) = (client.clone(), names.to_vec());
        let found = tokio::task::spawn_blocking(move || check_topics(&c, &wanted))
            .await
            .expect("the metadata task does not panic");
        match found {
            Ok((missing, unauthorized)) if missing.is_empty() && unauthorized.is_empty() => {
                return Ok(())
            }
            Ok((missing, unauthorized)) => {
                let first = *answered_at.get_or_insert_with(Instant::now);
                if first.elapsed() > MISSING_GRACE {
                    return Err(RequireError::Missing {
                        brokers: config.brokers.clone(),
                        missing,
                        unauthorized,
                    });
                }
            }
            Err(last) => {
                if started.elapsed() > BROKER_STARTUP_TIMEOUT {
                    return Err(RequireError::Unreachable {
                        brokers: config.brokers.clone(),
                        timeout: BROKER_STARTUP_TIMEOUT,
                        last,
                    });
                }
                tracing::warn!(error = %last, "the broker does not answer yet; retrying");
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How long a topic may stay missing once the broker answers: topics an operator created just
/// before may take a moment to reach every broker's metadata.
const MISSING_GRACE: Duration = Duration::from_secs(3);

/// (missing, unauthorized) among `names`, from one metadata request per topic.
fn check_topics(
    client: &rdkafka::consumer::BaseConsumer,
    names: &[String],
) -> Result<(Vec<String>, Vec<String>), KafkaError> {
    use rdkafka::consumer::Consumer;
    use rdkafka::types::RDKafkaRespErr;

    let (mut missing, mut unauthorized) = (Vec::new(), Vec::new());
    for name in names {
        let metadata = client.fetch_metadata(Some(name), Duration::from_secs(5))?;
        let error = metadata.topics().first().and_then(|t| t.error());
        match error {
            None => {}
            Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) => {
                unauthorized.push(name.clone())
            }
            Some(_) => missing.push(name.clone()),
        }
    }
    Ok((missing, unauthorized))
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
