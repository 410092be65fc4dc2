//! Which letters a redrive (or `show`) is about.

use super::letter::DeadLetter;
use super::namespace::resolve_dlq_topic;
use super::DlqToolError;
use saga_messaging::config::KafkaConfig;

/// The letters to redrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every letter of every DLQ topic of the namespace.
    All,
    /// Every letter of one DLQ topic, named by its original topic (with or without the
    /// namespace's prefix) or by the DLQ topic itself.
    Topic(String),
    /// Every letter whose envelope has this `event_id` (an event dead-lettered more than once
    /// has several; the consumers' inbox applies it once).
    EventId(String),
    /// The one letter with this id, `<dlq topic>:<partition>:<offset>`.
    Id(String),
}

impl Selection {
    /// The DLQ topic this selection is confined to, if it names one (an id names its topic,
    /// which is then read alone).
    pub(super) fn dlq_topic(&self, config: &KafkaConfig) -> Result<Option<String>, DlqToolError> {
        match self {
            Selection::Topic(name) => resolve_dlq_topic(config, name).map(Some),
            Selection::Id(id) => Ok(id
                .rsplitn(3, ':')
                .nth(2)
                .and_then(|topic| resolve_dlq_topic(config, topic).ok())
                .filter(|topic| id.starts_with(&format!("{topic}:")))),
            Selection::All | Selection::EventId(_) => Ok(None),
        }
    }

    /// Whether `letter` is selected (its topic already matched, for [`Selection::Topic`]).
    pub fn matches(&self, letter: &DeadLetter) -> bool {
        match self {
            Selection::All => true,
            Selection::Topic(_) => true,
            Selection::EventId(id) => letter
                .event_id
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(id.trim())),
            Selection::Id(id) => letter.id == id.trim(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_confines_the_read_to_its_own_topic_of_the_namespace() {
        let c = KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        let id = |s: &str| Selection::Id(s.into()).dlq_topic(&c).unwrap();
        assert_eq!(
            id("t1.order.paid.dlq:3:17").as_deref(),
            Some("t1.order.paid.dlq")
        );
        assert_eq!(id("t2.order.paid.dlq:3:17"), None);
        assert_eq!(id("nonsense"), None);
        assert_eq!(
            Selection::Topic("order.paid".into()).dlq_topic(&c).unwrap(),
            Some("t1.order.paid.dlq".into())
        );
        assert_eq!(Selection::All.dlq_topic(&c).unwrap(), None);
    }
}
