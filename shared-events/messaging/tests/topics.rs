//! Topic provisioning against the real broker: the topics a service creates carry the
//! configured `min.insync.replicas` (`KAFKA_MIN_INSYNC_REPLICAS`) on the topic itself, and
//! without it they keep the broker's default.

use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use saga_messaging::testing::isolated_kafka;
use saga_messaging::topics::ensure_named_topics;
use saga_messaging::KafkaConfig;

/// `min.insync.replicas` of `topic`: its value, and whether it is set on the topic itself.
async fn min_insync(config: &KafkaConfig, topic: &str) -> (Option<String>, bool) {
    let admin: AdminClient<DefaultClientContext> =
        config.admin_config().create().expect("an admin client");
    let mut configs = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &AdminOptions::new())
        .await
        .expect("describing the topic");
    let config = configs
        .pop()
        .expect("one resource")
        .expect("the topic's configuration");
    let entry = config
        .get("min.insync.replicas")
        .expect("min.insync.replicas is described");
    (
        entry.value.clone(),
        entry.source == ConfigSource::DynamicTopic,
    )
}

#[tokio::test]
async fn provisioned_topics_carry_the_configured_min_insync_replicas() {
    let set = KafkaConfig {
        min_insync_replicas: Some(1),
        ..isolated_kafka()
    };
    let topic = format!("{}isr.set", set.topic_prefix);
    ensure_named_topics(&set, std::slice::from_ref(&topic))
        .await
        .expect("creating the topic");
    assert_eq!(
        min_insync(&set, &topic).await,
        (Some("1".to_owned()), true),
        "set on the topic itself"
    );

    let unset = isolated_kafka();
    assert_eq!(unset.min_insync_replicas, None);
    let topic = format!("{}isr.unset", unset.topic_prefix);
    ensure_named_topics(&unset, std::slice::from_ref(&topic))
        .await
        .expect("creating the topic");
    let (_, own) = min_insync(&unset, &topic).await;
    assert!(
        !own,
        "without KAFKA_MIN_INSYNC_REPLICAS the topic has no setting of its own"
    );
}
