//! The services' consumer groups, seen from the broker: which topics each reads (from the
//! services' own "consumer started" log lines), how far each has committed, and resetting them
//! to the beginning (scenario 9) or past what they hold (scenario m04). Used to tell when a
//! service has caught up with a backlog whose effects the public APIs cannot show (a
//! tombstone, a duplicate that changed nothing).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use saga_messaging::KafkaConfig;

use super::harness::{Service, System};

const TIMEOUT: Duration = Duration::from_secs(10);

/// group → topics, from the `consumer started group=… topics=[…]` lines of the services' logs.
pub fn groups(system: &System) -> BTreeMap<String, Vec<String>> {
    let mut groups = BTreeMap::new();
    for s in Service::ALL {
        for line in system.log(s).lines() {
            let Some(rest) = line.split("consumer started group=").nth(1) else {
                continue;
            };
            let group = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            let topics: Vec<String> = rest
                .split("topics=")
                .nth(1)
                .unwrap_or_default()
                .split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect();
            groups.insert(group, topics);
        }
    }
    groups
}

fn client(kafka: &KafkaConfig, group: &str) -> BaseConsumer {
    kafka
        .consumer_config(group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("a consumer for offset queries")
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Vec<i32> {
    let md = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("topic metadata");
    md.topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect()
}

/// Per group: (messages committed past, messages not yet committed) over its topics.
pub fn progress(
    kafka: &KafkaConfig,
    groups: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, (i64, i64)> {
    let mut out = BTreeMap::new();
    for (group, topics) in groups {
        let consumer = client(kafka, group);
        let mut tpl = TopicPartitionList::new();
        for t in topics {
            for p in partitions(&consumer, t) {
                tpl.add_partition(t, p);
            }
        }
        let committed = consumer
            .committed_offsets(tpl, TIMEOUT)
            .expect("the group's committed offsets");
        let (mut done, mut lag) = (0, 0);
        for e in committed.elements() {
            let (low, high) = consumer
                .fetch_watermarks(e.topic(), e.partition(), TIMEOUT)
                .expect("watermarks");
            let at = match e.offset() {
                Offset::Offset(n) => n,
                _ => low,
            };
            done += at - low;
            lag += (high - at).max(0);
        }
        out.insert(group.clone(), (done, lag));
    }
    out
}

/// Waits until every group in `groups` has committed up to the end of its topics.
pub async fn wait_caught_up(
    kafka: &KafkaConfig,
    groups: &BTreeMap<String, Vec<String>>,
    within: Duration,
) {
    let started = Instant::now();
    loop {
        let kafka2 = kafka.clone();
        let groups2 = groups.clone();
        let p = tokio::task::spawn_blocking(move || progress(&kafka2, &groups2))
            .await
            .unwrap();
        if p.values().all(|&(_, lag)| lag == 0) {
            return;
        }
        if started.elapsed() > within {
            panic!("consumer groups not caught up within {within:?}: (committed, lag) = {p:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Commits offset 0 (the beginning) for every partition of every topic of each group. The
/// services must be stopped (the groups empty).
pub fn reset_to_beginning(kafka: &KafkaConfig, groups: &BTreeMap<String, Vec<String>>) {
    for (group, topics) in groups {
        let consumer = client(kafka, group);
        let mut tpl = TopicPartitionList::new();
        for t in topics {
            for p in partitions(&consumer, t) {
                let (low, _) = consumer
                    .fetch_watermarks(t, p, TIMEOUT)
                    .expect("watermarks");
                tpl.add_partition_offset(t, p, Offset::Offset(low))
                    .expect("an offset");
            }
        }
        consumer
            .commit(&tpl, CommitMode::Sync)
            .unwrap_or_else(|e| panic!("resetting group {group}: {e}"));
    }
}

/// Commits the end (the high watermark) for every partition of every topic of each group, so
/// that the groups skip what those topics hold now. The services must be stopped (the groups
/// empty).
pub fn skip_to_end(kafka: &KafkaConfig, groups: &BTreeMap<String, Vec<String>>) {
    for (group, topics) in groups {
        let consumer = client(kafka, group);
        let mut tpl = TopicPartitionList::new();
        for t in topics {
            for p in partitions(&consumer, t) {
                let (_, high) = consumer
                    .fetch_watermarks(t, p, TIMEOUT)
                    .expect("watermarks");
                tpl.add_partition_offset(t, p, Offset::Offset(high))
                    .expect("an offset");
            }
        }
        consumer
            .commit(&tpl, CommitMode::Sync)
            .unwrap_or_else(|e| panic!("moving group {group} to the end: {e}"));
    }
}

/// Waits until the consumer groups of `service` make progress (commit past where they were) or
/// have nothing left to read; returns how long that took. Panics after `within`, with the
/// groups' numbers: a consumer that does not resume after a restart stalls every saga.
pub async fn wait_resumed(system: &System, service: Service, within: Duration) -> Duration {
    let started = Instant::now();
    let prefix = system.kafka.group_id(service.name());
    let mine: BTreeMap<String, Vec<String>> = groups(system)
        .into_iter()
        .filter(|(g, _)| g == &prefix)
        .collect();
    if mine.is_empty() {
        return Duration::ZERO;
    }
    let kafka = system.kafka.clone();
    let query = move |m: BTreeMap<String, Vec<String>>| {
        let kafka = kafka.clone();
        async move {
            tokio::task::spawn_blocking(move || progress(&kafka, &m))
                .await
                .unwrap()
        }
    };
    let first = query(mine.clone()).await;
    loop {
        let now = query(mine.clone()).await;
        let resumed = now
            .iter()
            .all(|(g, &(done, lag))| lag == 0 || done > first[g].0);
        if resumed {
            return started.elapsed();
        }
        if started.elapsed() > within {
            panic!(
                "{}'s consumer group made no progress within {within:?} of its restart: (committed, lag) was {first:?}, is {now:?}",
                service.name()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
