//! Which topics are this namespace's DLQ topics: `<KAFKA_TOPIC_PREFIX><event type>.dlq` for a
//! known event type, and nothing else, so the tool never reads or redrives another namespace's
//! letters (the tests' `t<hex>.` namespaces share the broker with the services').

use crate::DlqToolError;
use saga_contracts::events::EventType;
use saga_messaging::config::KafkaConfig;

/// The event type whose DLQ topic `topic` is, if it is one of this namespace's.
pub(super) fn dlq_event_type(config: &KafkaConfig, topic: &str) -> Option<EventType> {
    topic
        .strip_suffix(".dlq")
        .and_then(|base| config.event_type_of(base))
}

/// The names among `topics` that are this namespace's DLQ topics, sorted.
pub fn dlq_topics_of<'a>(
    config: &KafkaConfig,
    topics: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut found: Vec<String> = topics
        .into_iter()
        .filter(|t| dlq_event_type(config, t).is_some())
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The DLQ topic an operator means by `name`: an event topic given with or without the
/// namespace's prefix (`order.created`, `<prefix>order.created`), or the DLQ topic itself
/// (`<prefix>order.created.dlq`, or `order.created.dlq`).
pub fn resolve_dlq_topic(config: &KafkaConfig, name: &str) -> Result<String, DlqToolError> {
    let name = name.trim();
    let base = name.strip_suffix(".dlq").unwrap_or(name);
    config
        .event_type_of(base)
        .or_else(|| EventType::parse(base))
        .map(|t| config.dlq_topic(t))
        .ok_or_else(|| DlqToolError::UnknownTopic {
            topic: name.to_owned(),
            prefix: config.topic_prefix.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prefix: &str) -> KafkaConfig {
        KafkaConfig {
            topic_prefix: prefix.into(),
            ..KafkaConfig::default()
        }
    }

    #[test]
    fn only_this_namespaces_dlq_topics_of_known_events_are_found() {
        let topics = [
            "t1.order.created.dlq",
            "t1.order.created",
            "t1.stock.updated.dlq",
            "t2.order.created.dlq",
            "order.created.dlq",
            "t1.not.an.event.dlq",
            "t1.order.created.dlq.dlq",
        ];
        assert_eq!(
            dlq_topics_of(&config("t1."), topics),
            ["t1.order.created.dlq", "t1.stock.updated.dlq"]
        );
        assert_eq!(dlq_topics_of(&config(""), topics), ["order.created.dlq"]);
    }

    #[test]
    fn a_topic_is_resolved_with_or_without_prefix_or_dlq_suffix() {
        let c = config("t1.");
        for name in [
            "order.paid",
            "t1.order.paid",
            "t1.order.paid.dlq",
            "order.paid.dlq",
            " order.paid ",
        ] {
            assert_eq!(resolve_dlq_topic(&c, name).unwrap(), "t1.order.paid.dlq");
        }
        assert!(matches!(
            resolve_dlq_topic(&c, "t2.order.paid"),
            Err(DlqToolError::UnknownTopic { .. })
        ));
        assert!(resolve_dlq_topic(&c, "order.exploded").is_err());
    }
}
