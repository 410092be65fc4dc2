//! Least privilege, checked against the real broker: with one service's own credentials, each
//! thing outside its rights is attempted, and the refusal the broker answers with is recorded.
//!
//! A [`Refusal`] is one row of the table the least-privilege scenario prints and asserts: the
//! service, what it tried, and what came back. An attempt that succeeds is a [`Breach`].

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use saga_contracts::services::{ServiceEvents, SERVICES};
use saga_contracts::EventType;
use saga_messaging::config::{KafkaSecurity, SecurityProtocol};
use saga_messaging::KafkaConfig;
use secrecy::SecretString;

/// One attempt outside a principal's rights, refused.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Whose credentials were used (`billing`, or `(none)`).
    pub who: String,
    /// The resource: `kafka`, `postgres`, `redis`.
    pub resource: &'static str,
    /// What was attempted.
    pub attempt: String,
    /// The refusal, as the server gave it.
    pub seen: String,
}

/// An attempt that should have been refused and was not.
#[derive(Debug, Clone)]
pub struct Breach {
    /// Whose credentials were used.
    pub who: String,
    /// What was attempted.
    pub attempt: String,
    /// What happened instead of a refusal.
    pub outcome: String,
}

/// The outcome of one probe.
pub type Probe = Result<Refusal, Breach>;

const WAIT: Duration = Duration::from_secs(20);

fn refusal(who: &str, resource: &'static str, attempt: String, seen: String) -> Probe {
    Ok(Refusal {
        who: who.to_owned(),
        resource,
        attempt,
        seen,
    })
}

fn breach(who: &str, attempt: String, outcome: String) -> Probe {
    Err(Breach {
        who: who.to_owned(),
        attempt,
        outcome,
    })
}

/// An event `service` does not publish (the first in the table's order).
fn not_published(service: &ServiceEvents) -> EventType {
    *EventType::ALL
        .iter()
        .find(|e| !service.publishes.contains(e))
        .expect("no service publishes everything")
}

/// An event `service` does not consume, and does not publish either (so not even describing
/// it is allowed).
fn foreign(service: &ServiceEvents) -> EventType {
    *EventType::ALL
        .iter()
        .find(|e| !service.consumes.contains(e) && !service.publishes.contains(e))
        .expect("no service touches every event")
}

/// Another service's consumer group (one that consumes something).
fn other_group(config: &KafkaConfig, service: &ServiceEvents) -> String {
    let other = SERVICES
        .iter()
        .find(|s| s.name != service.name && !s.consumes.is_empty())
        .expect("another consuming service");
    config.group_id(other.name)
}

/// Every Kafka probe for `service` in the namespace of `operator` (whose topics are
/// provisioned), with `service`'s own credentials.
pub async fn kafka_probes(operator: &KafkaConfig, service: &ServiceEvents) -> Vec<Probe> {
    let own = operator.as_local_principal(service.name);
    let who = service.name;
    let mut probes = vec![
        produce_foreign(&own, who, not_published(service)).await,
        read_foreign(&own, who, foreign(service)).await,
        create_topic(&own, who).await,
        delete_topic(&own, who, service).await,
    ];
    if let Some(&consumed) = service.consumes.first() {
        probes.push(join_other_group(&own, who, consumed, other_group(operator, service)).await);
    } else {
        probes.push(
            join_other_group(&own, who, foreign(service), other_group(operator, service)).await,
        );
    }
    probes
}

async fn produce_foreign(own: &KafkaConfig, who: &str, event: EventType) -> Probe {
    let topic = own.topic(event);
    let attempt = format!("produce {event} to {topic}");
    let producer: FutureProducer = own
        .producer_config()
        .set("message.timeout.ms", "15000")
        .create()
        .expect("a producer");
    let sent = producer
        .send(
            FutureRecord::<str, str>::to(&topic).key("k").payload("{}"),
            WAIT,
        )
        .await;
    match sent {
        Err((KafkaError::MessageProduction(code), _)) if authorization(code) => {
            refusal(who, "kafka", attempt, format!("{code:?}"))
        }
        other => breach(who, attempt, format!("{other:?}")),
    }
}

async fn read_foreign(own: &KafkaConfig, who: &str, event: EventType) -> Probe {
    let topic = own.topic(event);
    let attempt = format!("read {topic}");
    // In its own group, which it may use (a service that consumes nothing has none, and is
    // refused the group first).
    let consumer: BaseConsumer = own
        .consumer_config(&own.group_id(who))
        .create()
        .expect("a consumer");
    consumer.subscribe(&[&topic]).expect("subscribing");
    poll_for_refusal(consumer, who, attempt).await
}

async fn join_other_group(own: &KafkaConfig, who: &str, event: EventType, group: String) -> Probe {
    let topic = own.topic(event);
    let attempt = format!("join group {group} (on {topic})");
    let consumer: BaseConsumer = own.consumer_config(&group).create().expect("a consumer");
    consumer.subscribe(&[&topic]).expect("subscribing");
    poll_for_refusal(consumer, who, attempt).await
}

/// Polls until the consumer reports an authorization error (a refusal), or a record arrives
/// (a breach), or [`WAIT`] passes (a breach: nothing refused).
async fn poll_for_refusal(consumer: BaseConsumer, who: &str, attempt: String) -> Probe {
    let who_owned = who.to_owned();
    let outcome = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + WAIT;
        let mut last = None;
        while std::time::Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(200)) {
                Some(Err(e)) if e.rdkafka_error_code().is_some_and(authorization) => {
                    return Ok(format!("{:?}", e.rdkafka_error_code().expect("a code")));
                }
                Some(Err(e)) => last = Some(format!("{e}")),
                Some(Ok(_)) => return Err("a record was delivered".to_owned()),
                None => {}
            }
        }
        Err(format!("no refusal within {WAIT:?} (last error: {last:?})"))
    })
    .await
    .expect("the poll task");
    match outcome {
        Ok(seen) => refusal(&who_owned, "kafka", attempt, seen),
        Err(outcome) => breach(&who_owned, attempt, outcome),
    }
}

async fn create_topic(own: &KafkaConfig, who: &str) -> Probe {
    let topic = format!("{}created-by-{who}", own.topic_prefix);
    let attempt = format!("create topic {topic}");
    let admin: AdminClient<DefaultClientContext> = own.admin_config().create().expect("admin");
    let result = admin
        .create_topics(
            [&NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().request_timeout(Some(WAIT)),
        )
        .await;
    match result.as_deref() {
        Ok([Err((_, code))]) if authorization(*code) => {
            refusal(who, "kafka", attempt, format!("{code:?}"))
        }
        other => breach(who, attempt, format!("{other:?}")),
    }
}

async fn delete_topic(own: &KafkaConfig, who: &str, service: &ServiceEvents) -> Probe {
    // The topic it has the most rights on: one it writes (or, for a consumer only, reads).
    let event = service
        .publishes
        .first()
        .or(service.consumes.first())
        .copied()
        .expect("every service touches a topic");
    let topic = own.topic(event);
    let attempt = format!("delete topic {topic}");
    let admin: AdminClient<DefaultClientContext> = own.admin_config().create().expect("admin");
    let result = admin
        .delete_topics(&[&topic], &AdminOptions::new().request_timeout(Some(WAIT)))
        .await;
    match result.as_deref() {
        Ok([Err((_, code))]) if authorization(*code) => {
            refusal(who, "kafka", attempt, format!("{code:?}"))
        }
        other => breach(who, attempt, format!("{other:?}")),
    }
}

fn authorization(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
    )
}

/// The broker refuses a client that does not authenticate: `PLAINTEXT` (no TLS, no SASL) to its
/// one listener, and SASL_SSL with a wrong password.
pub async fn kafka_anonymous_probes(brokers: &str) -> Vec<Probe> {
    let base = KafkaConfig {
        brokers: brokers.to_owned(),
        ..KafkaConfig::local("operator")
    };
    let plaintext = KafkaConfig {
        security: KafkaSecurity {
            protocol: SecurityProtocol::Plaintext,
            ..base.security.clone()
        },
        ..base.clone()
    };
    let wrong = KafkaConfig {
        security: KafkaSecurity {
            password: Some(SecretString::from("not-the-password".to_owned())),
            ..base.security.clone()
        },
        ..base.clone()
    };
    vec![
        metadata_refused(
            plaintext.admin_config(),
            "(none)",
            "plaintext connection to the broker",
            "",
        )
        .await,
        metadata_refused(
            wrong.admin_config(),
            "operator (wrong password)",
            "SASL_SSL with a wrong password",
            "Authentication failed",
        )
        .await,
    ]
}

/// Asks for metadata; a refusal is a failure whose text contains `expect` (any failure when it
/// is empty: a plaintext client gets no answer it can read from a TLS listener).
async fn metadata_refused(config: ClientConfig, who: &str, attempt: &str, expect: &str) -> Probe {
    let (who, attempt, expect) = (who.to_owned(), attempt.to_owned(), expect.to_owned());
    let mut config = config;
    // Surface the client's own errors (authentication) rather than only a timeout.
    config.set("reconnect.backoff.max.ms", "1000");
    let consumer: BaseConsumer<ErrorContext> = config
        .create_with_context(ErrorContext::default())
        .expect("a client");
    let result = tokio::task::spawn_blocking(move || {
        let md = consumer.fetch_metadata(None, Duration::from_secs(10));
        // Error callbacks are served by polling.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while std::time::Instant::now() < deadline
            && consumer.context().errors.lock().expect("errors").is_empty()
        {
            let _ = consumer.poll(Duration::from_millis(100));
        }
        let errors = consumer.context().errors.lock().expect("errors").clone();
        (md.map(|m| m.brokers().len()), errors)
    })
    .await
    .expect("the metadata task");
    match result {
        (Err(e), errors) => {
            let seen = errors
                .iter()
                .find(|t| t.contains(&expect))
                .cloned()
                .unwrap_or_else(|| format!("{e}"));
            if seen.contains(&expect) {
                refusal(&who, "kafka", attempt, seen)
            } else {
                breach(&who, attempt, format!("failed otherwise: {seen}"))
            }
        }
        (Ok(n), _) => breach(&who, attempt, format!("metadata answered ({n} brokers)")),
    }
}

/// Records the client's error callbacks (authentication failures arrive there).
#[derive(Default)]
struct ErrorContext {
    errors: std::sync::Mutex<Vec<String>>,
}

impl rdkafka::ClientContext for ErrorContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.errors
            .lock()
            .expect("errors")
            .push(format!("{error}: {reason}"));
    }
}

impl rdkafka::consumer::ConsumerContext for ErrorContext {}

/// The table of `refusals`, one line each, aligned.
pub fn table(refusals: &[Refusal]) -> String {
    let mut out = String::from("| who | resource | attempt | refused with |\n|---|---|---|---|\n");
    for r in refusals {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.who,
            r.resource,
            r.attempt,
            r.seen.replace('|', "/")
        ));
    }
    out
}
