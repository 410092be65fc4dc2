//! Kafka records produced during a run in the run's topic namespace (`KAFKA_TOPIC_PREFIX` of
//! the benchmark's `KAFKA_*` settings, read as the operator): per topic, the sum over its
//! partitions of the high watermark's difference between two samples.
//!
//! The namespace's topics are `<prefix><event type>` (the events, one topic per type) and
//! `<prefix><event type>.dlq` (their dead letters), counted apart. Every other topic on the
//! broker (another namespace's, the ceiling's probe topic) is left out. A partition seen only
//! in the second sample counts from offset 0; one gone by then is left out. The producers are
//! idempotent but not transactional, so the broker writes no control records and a high
//! watermark's move is the number of records appended.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use saga_messaging::testing::watermarks;
use saga_messaging::KafkaConfig;

/// How long the broker may take to answer the metadata request.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// What a topic of the namespace carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An event type's records.
    Events,
    /// An event type's dead letters.
    DeadLetters,
}

/// What `topic` is in `config`'s namespace; `None` if it is not one of its topics.
pub fn kind_of(config: &KafkaConfig, topic: &str) -> Option<Kind> {
    if config.event_type_of(topic).is_some() {
        return Some(Kind::Events);
    }
    topic
        .strip_suffix(".dlq")
        .and_then(|original| config.event_type_of(original))
        .map(|_| Kind::DeadLetters)
}

/// The high watermark of every partition of the namespace's topics at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// (topic, partition) → the offset its next record will have.
    pub ends: BTreeMap<(String, i32), i64>,
}

/// Asks the broker, as `config`'s principal, for the namespace's topics and their partitions'
/// high watermarks.
pub async fn sample(config: &KafkaConfig) -> Result<Sample, String> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || sample_blocking(&config))
        .await
        .map_err(|e| format!("reading the watermarks: {e}"))?
}

fn sample_blocking(config: &KafkaConfig) -> Result<Sample, String> {
    // A group is named because the client needs one; it is never joined (no subscription)
    // and nothing is committed.
    let consumer: BaseConsumer = config
        .consumer_config(&format!("{}bench-watermarks", config.topic_prefix))
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| format!("a consumer: {e}"))?;
    let metadata = consumer
        .fetch_metadata(None, BROKER_TIMEOUT)
        .map_err(|e| format!("the broker's topics at {}: {e}", config.brokers))?;
    let topics: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|name| kind_of(config, name).is_some())
        .collect();
    let marks = watermarks(&consumer, &topics).map_err(|e| format!("the watermarks: {e}"))?;
    Ok(Sample {
        ends: marks
            .into_iter()
            .map(|w| ((w.topic, w.partition), w.end))
            .collect(),
    })
}

/// The records produced between two samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Produced {
    /// topic → records appended to it (every topic of the later sample, 0 included).
    pub per_topic: BTreeMap<String, u64>,
    /// To the event topics.
    pub events: u64,
    /// To the dead-letter topics.
    pub dead_letters: u64,
}

/// The records `config`'s namespace received between `before` and `after`.
pub fn produced(config: &KafkaConfig, before: &Sample, after: &Sample) -> Produced {
    let mut out = Produced::default();
    for ((topic, partition), &end) in &after.ends {
        let start = before
            .ends
            .get(&(topic.clone(), *partition))
            .copied()
            .unwrap_or(0);
        let records = u64::try_from(end.saturating_sub(start)).unwrap_or(0);
        *out.per_topic.entry(topic.clone()).or_default() += records;
        match kind_of(config, topic) {
            Some(Kind::Events) => out.events += records,
            Some(Kind::DeadLetters) => out.dead_letters += records,
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(prefix: &str) -> KafkaConfig {
        KafkaConfig {
            topic_prefix: prefix.into(),
            ..KafkaConfig::default()
        }
    }

    #[test]
    fn only_the_namespaces_event_and_dead_letter_topics_are_its_own() {
        let run = namespace("");
        assert_eq!(kind_of(&run, "order.created"), Some(Kind::Events));
        assert_eq!(kind_of(&run, "order.created.dlq"), Some(Kind::DeadLetters));
        assert_eq!(kind_of(&run, "t1.order.created"), None, "another namespace");
        assert_eq!(kind_of(&run, "bench-ceiling-1234"), None);
        assert_eq!(kind_of(&run, "not.an.event.dlq"), None);
        let test = namespace("t1.");
        assert_eq!(kind_of(&test, "t1.stock.reserved"), Some(Kind::Events));
        assert_eq!(kind_of(&test, "t1.low.stock.dlq"), Some(Kind::DeadLetters));
        assert_eq!(kind_of(&test, "stock.reserved"), None);
    }

    #[test]
    fn records_are_the_high_watermarks_moves_with_dead_letters_apart() {
        let config = namespace("");
        let at = |marks: &[(&str, i32, i64)]| Sample {
            ends: marks
                .iter()
                .map(|&(t, p, end)| ((t.to_owned(), p), end))
                .collect(),
        };
        let before = at(&[
            ("order.created", 0, 100),
            ("order.created", 1, 50),
            ("order.paid", 0, 10),
            ("order.paid.dlq", 0, 3),
            ("stock.released", 0, 9),
        ]);
        let after = at(&[
            ("order.created", 0, 130),
            ("order.created", 1, 70),
            // A partition seen only now counts from 0.
            ("order.created", 2, 5),
            ("order.paid", 0, 10),
            ("order.paid.dlq", 0, 5),
            // stock.released is gone: left out.
        ]);
        let produced = produced(&config, &before, &after);
        assert_eq!(
            produced.per_topic,
            BTreeMap::from([
                ("order.created".to_owned(), 55),
                ("order.paid".to_owned(), 0),
                ("order.paid.dlq".to_owned(), 2),
            ])
        );
        assert_eq!((produced.events, produced.dead_letters), (55, 2));
    }
}
