//! Scenario 16: the system on a three-node broker cluster, and the node that leads the most of
//! the run's partitions killed (`kill -9`) in the middle of a burst, then started again.
//!
//! Every topic the services provision has three replicas and `min.insync.replicas=2`
//! (`KAFKA_REPLICATION_FACTOR=3`, `KAFKA_MIN_INSYNC_REPLICAS=2`), and every producer writes
//! with `acks=all`: an event acknowledged to a service is on two nodes at least, so losing one
//! node loses nothing, and writes go on while two are in sync. The scenario ends with the
//! invariant checker and with every dead-letter topic of the run empty.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;

use super::faults::{burst_size, finish_burst, reasons, start_burst, wait_placed};
use super::harness::{turn, Options, System};
use super::kraft::KraftCluster;
use super::outages::{assert_no_dead_letters, hold_outage};

/// How long the killed node stays down, the burst going on meanwhile.
const NODE_DOWN: Duration = Duration::from_secs(30);

/// The bound on the killed node's partitions getting new leaders: the controller fences a
/// node whose heartbeats stop after `broker.session.timeout.ms` (9 s), then elects.
const FAILOVER_BOUND: Duration = Duration::from_secs(30);

/// The bound on the restarted node being back in sync on every partition of the run.
const CATCH_UP_BOUND: Duration = Duration::from_secs(120);

/// Asserts that every topic of the run has three replicas and `min.insync.replicas=2` set on
/// the topic itself (not the cluster's default, which is 2 as well).
async fn assert_replicated(cluster: &KraftCluster, prefix: &str) -> usize {
    let parts = cluster.partitions(prefix).await;
    assert!(
        !parts.is_empty(),
        "the run's topics are not in the metadata"
    );
    let thin: Vec<String> = parts
        .iter()
        .filter(|p| p.replicas.len() != 3)
        .map(|p| format!("{}/{}: {:?}", p.topic, p.partition, p.replicas))
        .collect();
    assert!(
        thin.is_empty(),
        "partitions without three replicas: {thin:?}"
    );
    let mut topics: Vec<String> = parts.iter().map(|p| p.topic.clone()).collect();
    topics.dedup();
    let admin: AdminClient<DefaultClientContext> = saga_tests::operator_kafka(&cluster.brokers())
        .admin_config()
        .create()
        .expect("an admin client");
    let specifiers: Vec<ResourceSpecifier> =
        topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let configs = admin
        .describe_configs(&specifiers, &AdminOptions::new())
        .await
        .expect("describing the run's topics");
    for (topic, config) in topics.iter().zip(configs) {
        let config = config.unwrap_or_else(|e| panic!("describing {topic}: {e}"));
        let entry = config
            .get("min.insync.replicas")
            .unwrap_or_else(|| panic!("{topic} has no min.insync.replicas"));
        assert_eq!(
            (entry.value.as_deref(), &entry.source),
            (Some("2"), &ConfigSource::DynamicTopic),
            "{topic}'s min.insync.replicas"
        );
    }
    topics.len()
}

/// 16. A broker cluster of three KRaft nodes (each broker and controller) of the test's own;
/// a third of the way into a burst, the node leading the most of the run's partitions is
/// killed (`kill -9`). Its partitions fail over to the other two; it stays down for 30 s, then
/// starts again on its log and catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_broker_cluster_leader_killed_mid_burst() {
    let n = burst_size();
    let started = Instant::now();
    let turn = turn().await;
    let mut cluster = KraftCluster::start(3, "127.0.0.1").await;
    let sys = System::start_in(
        turn,
        Options {
            brokers: Some(cluster.brokers()),
            env: vec![
                ("KAFKA_REPLICATION_FACTOR".into(), "3".into()),
                ("KAFKA_MIN_INSYNC_REPLICAS".into(), "2".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let prefix = sys.kafka.topic_prefix.clone();
    let topics = assert_replicated(&cluster, &prefix).await;

    let (placed, burst) = start_burst(&sys.actor(), n, 10, 16).await;
    wait_placed(&placed, n / 3, &burst).await;
    let leaders = cluster.leaders(&prefix).await;
    let (&victim, &led) = leaders
        .iter()
        .max_by_key(|(_, led)| **led)
        .expect("three nodes");
    eprintln!(
        "e2e: {} of {n} orders placed; partitions led per node {leaders:?}; killing node {victim}",
        placed.load(Ordering::Relaxed)
    );
    cluster.kill(victim);
    let down = Instant::now();

    let failover = saga_messaging::testing::wait_for(
        "the killed node's partitions to get new leaders",
        FAILOVER_BOUND,
        || {
            let parts = cluster.partitions(&prefix);
            async move {
                let parts = parts.await;
                let orphans = parts
                    .iter()
                    .filter(|p| p.leader == victim || p.leader < 0)
                    .count();
                (!parts.is_empty() && orphans == 0).then_some(down.elapsed())
            }
        },
    )
    .await;
    eprintln!(
        "e2e: node {victim}'s {led} partitions led elsewhere {:.1}s after the kill; now {:?}",
        failover.as_secs_f64(),
        cluster.leaders(&prefix).await
    );
    hold_outage(
        &format!("Kafka node {victim}"),
        NODE_DOWN.saturating_sub(down.elapsed()),
    )
    .await;
    let took = cluster.restart(victim).await;
    let back = Instant::now();
    eprintln!(
        "e2e: node {victim} started again after {:.1}s down (in the metadata {:.1}s later)",
        down.elapsed().as_secs_f64(),
        took.as_secs_f64()
    );
    let caught_up = saga_messaging::testing::wait_for(
        "the restarted node to be in sync on every partition",
        CATCH_UP_BOUND,
        || {
            let parts = cluster.partitions(&prefix);
            async move {
                let parts = parts.await;
                let lagging = parts.iter().filter(|p| p.isr.len() < 3).count();
                (!parts.is_empty() && lagging == 0).then_some(back.elapsed())
            }
        },
    )
    .await;
    eprintln!(
        "e2e: every partition has three in-sync replicas {:.1}s after the restart",
        caught_up.as_secs_f64()
    );

    finish_burst(n, burst).await;
    let world = sys.check(Duration::from_secs(120)).await;
    assert_eq!(world.orders.len(), n);
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: scenario 16 with {n} orders on {topics} topics of 3 replicas took {:.1}s: node \
         {victim} (leading {led}) killed, failover {:.1}s, back in sync {:.1}s after its \
         restart, {dead} dead letters, invariants hold; outcomes {:?}",
        started.elapsed().as_secs_f64(),
        failover.as_secs_f64(),
        caught_up.as_secs_f64(),
        reasons(&world)
    );
    drop(sys);
}
