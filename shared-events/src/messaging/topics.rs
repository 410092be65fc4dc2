//! Topic provisioning: each service creates the topics it uses, and their dead-letter topics,
//! at start-up. Creating a topic that exists is not an error, so this is idempotent.

use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

use crate::contracts::events::EventType;
use crate::messaging::config::{KafkaConfig, BROKER_STARTUP_TIMEOUT};

/// Creates `<topic>` and `<topic>.dlq` for each event type, retrying while the broker starts.
pub async fn ensure_topics(config: &KafkaConfig, event_types: &[EventType]) -> anyhow::Result<()> {
    let mut names: Vec<String> = Vec::new();
    for &t in event_types {
        names.push(config.topic(t));
        names.push(config.dlq_topic(t));
    }
    names.sort();
    names.dedup();
    ensure_named_topics(config, &names).await
}

/// Creates the named topics (with the configured partitions) if they do not exist.
pub async fn ensure_named_topics(config: &KafkaConfig, names: &[String]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = config
        .admin_config()
        .create()
        .context("creating the Kafka admin client")?;
    let new_topics: Vec<NewTopic> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                config.partitions,
                TopicReplication::Fixed(config.replication_factor),
            )
        })
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
                            last_error = Some(format!("{name}: {code}"));
                            retry.push(NewTopic::new(
                                topic.name,
                                topic.num_partitions,
                                TopicReplication::Fixed(config.replication_factor),
                            ));
                        }
                    }
                }
            }
            Err(e) => {
                last_error = Some(e.to_string());
                retry = pending;
            }
        }
        if retry.is_empty() {
            return Ok(());
        }
        if started.elapsed() > BROKER_STARTUP_TIMEOUT {
            anyhow::bail!(
                "could not create topics on {}: {}",
                config.brokers,
                last_error.unwrap_or_default()
            );
        }
        tracing::warn!(error = ?last_error, "topic creation failed; retrying");
        tokio::time::sleep(Duration::from_millis(500)).await;
        pending = retry;
    }
}
