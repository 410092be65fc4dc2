//! How far consumer groups (the services' own, a test runner's) are behind the end of the topics they read, and a
//! wait until they have caught up.
//!
//! A group has caught up with a partition when its committed offset is the partition's high
//! watermark. The runner stores a message's offset only once the message is done with (its
//! effect committed, with whatever it enqueued in the outbox, or its dead letter acknowledged),
//! and commits what it stored: a group that has caught up has nothing left in hand.

use std::fmt;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::watermarks;
use super::wait::wait_until;
use crate::config::KafkaConfig;
use saga_contracts::services::ServiceEvents;

/// How long one question to the broker may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a consumer group is on one partition of a topic it reads, against the partition's
/// end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The consumer group.
    pub group: String,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The group's committed offset there, `None` if it never committed one.
    pub committed: Option<i64>,
    /// The partition's low watermark: the offset of its oldest record still kept.
    pub start: i64,
    /// The partition's high watermark: the offset its next record will have.
    pub end: i64,
}

impl Position {
    /// Whether the group has not committed the partition to its end (one that never
    /// committed is behind unless the partition holds nothing).
    pub fn behind(&self) -> bool {
        match self.committed {
            Some(o) => o < self.end,
            None => self.end > self.start,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let committed = self
            .committed
            .map_or_else(|| "nothing".to_owned(), |o| o.to_string());
        write!(
            f,
            "group {} on {} partition {}: committed {committed} of {}",
            self.group, self.topic, self.partition, self.end
        )
    }
}

/// The positions that are [behind](Position::behind), one per line.
pub fn behind(positions: &[Position]) -> String {
    positions
        .iter()
        .filter(|p| p.behind())
        .map(Position::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// A consumer group and the topics it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's id.
    pub id: String,
    /// The topics it reads.
    pub topics: Vec<String>,
}

impl Group {
    /// `service`'s one group in `config`'s namespace, reading the topics of the events it
    /// consumes; `None` for a service that consumes nothing.
    pub fn of_service(config: &KafkaConfig, service: &ServiceEvents) -> Option<Group> {
        (!service.consumes.is_empty()).then(|| Group {
            id: config.group_id(service.name),
            topics: service.consumes.iter().map(|&t| config.topic(t)).collect(),
        })
    }

    /// The groups of `services` (those that consume anything).
    pub fn of_services(config: &KafkaConfig, services: &[ServiceEvents]) -> Vec<Group> {
        services
            .iter()
            .filter_map(|s| Group::of_service(config, s))
            .collect()
    }
}

/// Where `group` is on every partition of the topics it reads. Asks the broker, blocking:
/// call it off the async runtime's threads ([`positions_of`] does).
pub fn positions(config: &KafkaConfig, group: &Group) -> Result<Vec<Position>, KafkaError> {
    // A consumer that joins nothing: it only asks for the group's committed offsets.
    let consumer: BaseConsumer = config.consumer_config(&group.id).create()?;
    let ends = watermarks(&consumer, &group.topics)?;
    let mut wanted = TopicPartitionList::new();
    for w in &ends {
        wanted.add_partition(&w.topic, w.partition);
    }
    let committed = consumer.committed_offsets(wanted, BROKER_TIMEOUT)?;
    Ok(ends
        .into_iter()
        .map(|w| Position {
            group: group.id.clone(),
            committed: committed
                .find_partition(&w.topic, w.partition)
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                }),
            topic: w.topic,
            partition: w.partition,
            start: w.start,
            end: w.end,
        })
        .collect())
}

/// Where each of `groups` is on every partition it reads.
pub async fn positions_of(
    config: &KafkaConfig,
    groups: &[Group],
) -> Result<Vec<Position>, KafkaError> {
    let (config, groups) = (config.clone(), groups.to_vec());
    tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for group in &groups {
            all.extend(positions(&config, group)?);
        }
        Ok(all)
    })
    .await
    .expect("asking the broker for the groups' offsets")
}

/// Waits until each of `groups` has committed every partition it reads to its end, or panics
/// after `timeout`, naming what is still behind.
pub async fn wait_caught_up(config: &KafkaConfig, groups: &[Group], timeout: Duration) {
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let what = format!("the consumer groups {ids:?} to catch up");
    wait_until(&what, timeout, || async {
        match positions_of(config, groups).await {
            Ok(p) if !p.iter().any(Position::behind) => Ok(()),
            Ok(p) => Err(behind(&p)),
            Err(e) => Err(format!("asking the broker: {e}")),
        }
    })
    .await
}
