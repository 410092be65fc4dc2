//! The broker's access rules for each service, derived from the saga's table
//! ([`saga_contracts::services`]) and never written out a second time.
//!
//! A service's principal (`User:<service>`) may:
//! - write (and write idempotently) the topics of the events it publishes, and the dead-letter
//!   topics of the events it consumes (its own dead letters);
//! - read the topics of the events it consumes;
//! - use its own consumer group, and no other;
//! - describe what it writes and reads (writing and reading imply describing).
//!
//! Nothing else: no topic creation or deletion, no other group, no configuration changes. Topics
//! are provisioned by the operator ([`crate::provision`]). The rules are literal
//! names in a namespace (`KAFKA_TOPIC_PREFIX`), so a test's namespace gets rules of its own.

use crate::config::KafkaConfig;
use saga_contracts::services::ServiceEvents;

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// A topic, by its literal name.
    Topic,
    /// A consumer group, by its literal name.
    Group,
    /// The cluster (its one resource is named `kafka-cluster`).
    Cluster,
}

/// What a rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Consume from a topic, or join and commit in a group.
    Read,
    /// Produce to a topic.
    Write,
    /// Metadata and offsets of a topic or group.
    Describe,
    /// Idempotent production (producer ids) on the cluster.
    IdempotentWrite,
}

/// One "allow" rule: `principal` may do `operation` on the resource `name`, from any host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclRule {
    /// `User:<name>`.
    pub principal: String,
    /// The kind of resource.
    pub resource: Resource,
    /// Its literal name.
    pub name: String,
    /// What is allowed.
    pub operation: Operation,
}

/// The cluster resource's name.
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// The rules of `service` in `config`'s namespace, sorted.
pub fn service_rules(config: &KafkaConfig, service: &ServiceEvents) -> Vec<AclRule> {
    let principal = format!("User:{}", service.name);
    let rule = |resource, name: String, operation| AclRule {
        principal: principal.clone(),
        resource,
        name,
        operation,
    };
    let mut rules = Vec::new();
    for &event in service.publishes {
        rules.push(rule(Resource::Topic, config.topic(event), Operation::Write));
        rules.push(rule(
            Resource::Topic,
            config.topic(event),
            Operation::Describe,
        ));
    }
    for &event in service.consumes {
        rules.push(rule(Resource::Topic, config.topic(event), Operation::Read));
        rules.push(rule(
            Resource::Topic,
            config.topic(event),
            Operation::Describe,
        ));
        rules.push(rule(
            Resource::Topic,
            config.dlq_topic(event),
            Operation::Write,
        ));
        rules.push(rule(
            Resource::Topic,
            config.dlq_topic(event),
            Operation::Describe,
        ));
    }
    if !service.consumes.is_empty() {
        let group = config.group_id(service.name);
        rules.push(rule(Resource::Group, group.clone(), Operation::Read));
        rules.push(rule(Resource::Group, group, Operation::Describe));
    }
    if !rules.is_empty() {
        rules.push(rule(
            Resource::Cluster,
            CLUSTER_NAME.to_owned(),
            Operation::IdempotentWrite,
        ));
    }
    rules.sort();
    rules
}

impl std::fmt::Display for AclRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {:?} {}",
            self.principal, self.operation, self.resource, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saga_contracts::services::{BILLING, CUSTOMER, NOTIFICATION};
    use saga_contracts::EventType;

    fn namespaced() -> KafkaConfig {
        KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        }
    }

    fn allowed(rules: &[AclRule], resource: Resource, name: &str, op: Operation) -> bool {
        rules
            .iter()
            .any(|r| r.resource == resource && r.name == name && r.operation == op)
    }

    #[test]
    fn billing_writes_what_it_publishes_and_reads_what_it_consumes_in_its_namespace() {
        let c = namespaced();
        let rules = service_rules(&c, &BILLING);
        assert!(rules.iter().all(|r| r.principal == "User:billing"));
        for e in BILLING.publishes {
            assert!(allowed(
                &rules,
                Resource::Topic,
                &c.topic(*e),
                Operation::Write
            ));
            assert!(!allowed(
                &rules,
                Resource::Topic,
                &c.topic(*e),
                Operation::Read
            ));
        }
        for e in BILLING.consumes {
            assert!(allowed(
                &rules,
                Resource::Topic,
                &c.topic(*e),
                Operation::Read
            ));
            assert!(!allowed(
                &rules,
                Resource::Topic,
                &c.topic(*e),
                Operation::Write
            ));
            assert!(allowed(
                &rules,
                Resource::Topic,
                &c.dlq_topic(*e),
                Operation::Write
            ));
        }
        assert!(!allowed(
            &rules,
            Resource::Topic,
            &c.topic(EventType::StockReserved),
            Operation::Write
        ));
        assert!(allowed(
            &rules,
            Resource::Group,
            "t1.billing",
            Operation::Read
        ));
        assert_eq!(
            rules
                .iter()
                .filter(|r| r.resource == Resource::Group)
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>(),
            ["t1.billing", "t1.billing"],
            "its own group only"
        );
        assert!(allowed(
            &rules,
            Resource::Cluster,
            CLUSTER_NAME,
            Operation::IdempotentWrite
        ));
        // Every topic rule names a topic of its namespace.
        assert!(rules
            .iter()
            .filter(|r| r.resource == Resource::Topic)
            .all(|r| r.name.starts_with("t1.")));
    }

    #[test]
    fn a_service_that_consumes_nothing_has_no_group_and_one_that_publishes_nothing_no_topic_to_write(
    ) {
        let c = namespaced();
        let customer = service_rules(&c, &CUSTOMER);
        assert!(!customer.iter().any(|r| r.resource == Resource::Group));
        assert!(!customer.iter().any(|r| r.operation == Operation::Read));
        let notification = service_rules(&c, &NOTIFICATION);
        let written: Vec<&str> = notification
            .iter()
            .filter(|r| r.operation == Operation::Write)
            .map(|r| r.name.as_str())
            .collect();
        assert!(written.iter().all(|t| t.ends_with(".dlq")), "{written:?}");
    }
}
