//! Reading the DLQ topics: find the namespace's DLQ topics in the broker's metadata, take
//! each partition's low and high watermarks, and read every record in between.
//!
//! The reader is assigned its partitions (no subscription, so no group is joined and no
//! rebalance runs) and commits nothing, so reading changes nothing a service can see. It stops
//! at the high watermarks taken before reading, so letters written meanwhile are left for the
//! next look, and an empty namespace costs one metadata request. Every wait on the broker is
//! bounded by [`BROKER_TIMEOUT`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use uuid::Uuid;

use super::letter::DeadLetter;
use super::namespace::{dlq_topics_of, resolve_dlq_topic};
use super::{DlqToolError, BROKER_TIMEOUT};
use saga_messaging::config::KafkaConfig;

/// How long one poll waits before the reader checks where its partitions are.
const POLL: Duration = Duration::from_millis(200);

/// Every letter in every DLQ topic of `config`'s namespace, ordered by topic, partition and
/// offset. Empty (and quick) when there are none.
pub async fn read_all(config: &KafkaConfig) -> Result<Vec<DeadLetter>, DlqToolError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || read_blocking(&config, None)).await?
}

/// The letters of one DLQ topic, named as [`resolve_dlq_topic`] accepts (the original topic,
/// with or without the prefix, or the DLQ topic), in partition and offset order.
pub async fn read_topic(
    config: &KafkaConfig,
    topic: &str,
) -> Result<Vec<DeadLetter>, DlqToolError> {
    let dlq = resolve_dlq_topic(config, topic)?;
    let config = config.clone();
    tokio::task::spawn_blocking(move || read_blocking(&config, Some(&dlq))).await?
}

/// How long the reader waits before asking again for a partition that is not ready.
const NOT_READY_PAUSE: Duration = Duration::from_millis(50);

/// A partition's low and high watermarks, asked again (within [`BROKER_TIMEOUT`]) while the
/// broker says the partition is not ready: a topic created a moment ago (by a service starting)
/// is in the metadata with a leader before that leader answers for it, and says
/// `NotLeaderForPartition` meanwhile.
fn watermarks(consumer: &BaseConsumer, topic: &str, partition: i32) -> KafkaResult<(i64, i64)> {
    let started = Instant::now();
    loop {
        match consumer.fetch_watermarks(topic, partition, BROKER_TIMEOUT) {
            Err(KafkaError::MetadataFetch(
                RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::UnknownTopicOrPartition,
            )) if started.elapsed() < BROKER_TIMEOUT => std::thread::sleep(NOT_READY_PAUSE),
            answer => return answer,
        }
    }
}

/// One partition to read, from `next` up to (not including) `high`.
struct Range {
    next: i64,
    high: i64,
}

fn read_blocking(
    config: &KafkaConfig,
    only: Option<&str>,
) -> Result<Vec<DeadLetter>, DlqToolError> {
    let consumer: BaseConsumer =
        reader_config(config)
            .create()
            .map_err(|source| DlqToolError::Client {
                what: "consumer",
                source,
            })?;
    let metadata = consumer
        .fetch_metadata(None, BROKER_TIMEOUT)
        .map_err(|source| DlqToolError::Unreachable {
            brokers: config.brokers.clone(),
            source,
        })?;
    let mut topics = dlq_topics_of(config, metadata.topics().iter().map(|t| t.name()));
    if let Some(only) = only {
        topics.retain(|t| t == only);
    }

    let mut ranges: HashMap<(String, i32), Range> = HashMap::new();
    for topic in metadata.topics() {
        if !topics.iter().any(|t| t == topic.name()) {
            continue;
        }
        for partition in topic.partitions() {
            let (low, high) =
                watermarks(&consumer, topic.name(), partition.id()).map_err(|source| {
                    DlqToolError::Watermarks {
                        topic: topic.name().to_owned(),
                        partition: partition.id(),
                        source,
                    }
                })?;
            if high > low {
                ranges.insert(
                    (topic.name().to_owned(), partition.id()),
                    Range { next: low, high },
                );
            }
        }
    }
    if ranges.is_empty() {
        return Ok(Vec::new());
    }

    let all_topics = topics.join(", ");
    let read_error = |source| DlqToolError::Read {
        topic: all_topics.clone(),
        source,
    };
    let mut assignment = TopicPartitionList::new();
    for ((topic, partition), range) in &ranges {
        assignment
            .add_partition_offset(topic, *partition, Offset::Offset(range.next))
            .map_err(read_error)?;
    }
    consumer.assign(&assignment).map_err(read_error)?;

    let mut letters = Vec::new();
    let mut progress = Instant::now();
    while !ranges.is_empty() {
        match consumer.poll(POLL) {
            Some(Ok(message)) => {
                let key = (message.topic().to_owned(), message.partition());
                if let Some(range) = ranges.get_mut(&key) {
                    if message.offset() >= range.next && message.offset() < range.high {
                        letters.push(DeadLetter::from_message(&message));
                        range.next = message.offset() + 1;
                        progress = Instant::now();
                    }
                    if range.next >= range.high {
                        ranges.remove(&key);
                    }
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) | None => {
                // A partition may end short of its high watermark only if records were
                // skipped (control records, say); its position then says it is done.
                if let Ok(positions) = consumer.position() {
                    for p in positions.elements() {
                        if let Offset::Offset(at) = p.offset() {
                            let key = (p.topic().to_owned(), p.partition());
                            if ranges.get(&key).is_some_and(|r| at >= r.high) {
                                ranges.remove(&key);
                            }
                        }
                    }
                }
                if progress.elapsed() > BROKER_TIMEOUT {
                    if let Some(((topic, partition), range)) = ranges.iter().next() {
                        return Err(DlqToolError::Stalled {
                            topic: topic.clone(),
                            partition: *partition,
                            at: range.next,
                            high: range.high,
                        });
                    }
                }
            }
            Some(Err(source)) => return Err(read_error(source)),
        }
    }
    letters.sort_by(|a, b| {
        (&a.dlq_topic, a.partition, a.offset).cmp(&(&b.dlq_topic, b.partition, b.offset))
    });
    Ok(letters)
}

/// A consumer that is only ever assigned partitions, at explicit offsets: it never joins its
/// group (no subscription) and never commits (no auto-commit, nothing stored), so the group is
/// never created on the broker. librdkafka refuses `assign` without a `group.id`, so it gets a
/// fresh one, in the namespace, that nothing else uses.
fn reader_config(config: &KafkaConfig) -> ClientConfig {
    let mut c = config.admin_config();
    let group = format!(
        "{}dlq-tool-{}",
        config.topic_prefix,
        Uuid::new_v4().simple()
    );
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .set("socket.timeout.ms", BROKER_TIMEOUT.as_millis().to_string());
    c
}
