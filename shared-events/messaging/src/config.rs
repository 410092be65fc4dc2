//! Kafka settings, read from the environment with defaults for the local stack.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `KAFKA_BROKERS` | `127.0.0.1:9092` | bootstrap servers |
//! | `KAFKA_TOPIC_PREFIX` | empty | namespace prepended to every topic and consumer group (test isolation) |
//! | `KAFKA_PARTITIONS` | `6` | partitions of the topics a service provisions: 1, 2, 3 or 6 instances of a service share them evenly |
//! | `KAFKA_REPLICATION_FACTOR` | `1` | replication factor of provisioned topics |
//! | `KAFKA_MIN_INSYNC_REPLICAS` | unset (the broker's `min.insync.replicas`) | `min.insync.replicas` of provisioned topics: with `acks=all`, a write succeeds only once this many replicas have it (on a cluster: 2 with a replication factor of 3, so one broker can be lost without losing an acknowledged event or stopping writes) |
//! | `KAFKA_LINGER_MS` | `0` | producer `linger.ms`: a saga waits on every hop, and measured on Kafka (`messaging_bench`), the relay's commit-to-publish p50 is ~0.7 ms at 0 against ~10 ms at librdkafka's 5, with no loss of relay throughput (records still batch while a request is in flight) |
//! | `KAFKA_FETCH_WAIT_MAX_MS` | librdkafka's (500) | consumer `fetch.wait.max.ms`, only if set; Kafka answers a fetch as soon as `fetch.min.bytes` (1) is there, so this wait bounds only an idle fetch |
//! | `KAFKA_IDEMPOTENCE` | `true` | producer `enable.idempotence`: with it, producer retries keep each partition's order and write no duplicates |
//! | `KAFKA_GROUP_INSTANCE_ID` | unset | static group membership: a restarted instance with the same id takes its partitions back at once, even after a crash (give each instance its own) |
//! | `KAFKA_SECURITY_PROTOCOL` | `SASL_SSL` | `security.protocol`: `SASL_SSL`, `SSL`, `SASL_PLAINTEXT` or `PLAINTEXT` |
//! | `KAFKA_SASL_MECHANISM` | `SCRAM-SHA-512` | `sasl.mechanisms`: `SCRAM-SHA-512`, `SCRAM-SHA-256`, `PLAIN` (Confluent Cloud's API keys), … |
//! | `KAFKA_SASL_USERNAME` | the principal: the service's name, `operator` for the tools | `sasl.username` |
//! | `KAFKA_SASL_PASSWORD` / `KAFKA_SASL_PASSWORD_FILE` | the local stack's `.stack/secrets/kafka-<username>.password` | `sasl.password` |
//! | `KAFKA_SSL_CA_LOCATION` | the local stack's `.stack/tls/ca.crt` if it exists, else the system's CAs | `ssl.ca.location`: the CA that signed the broker's certificate (`probe` for the system's CAs) |
//! | `LIBRDKAFKA_<NAME>` | | any other librdkafka property, applied last to every client: `<NAME>` lower-cased, `_` read as `.` and `__` as `_`, e.g. `LIBRDKAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM=https` sets `ssl.endpoint.identification.algorithm` |

use std::path::PathBuf;
use std::time::Duration;

use rdkafka::ClientConfig;
use secrecy::{ExposeSecret, SecretString};

use crate::env::{ConfigError, Env};
use crate::secret::LocalStack;
use saga_contracts::events::EventType;

/// How a service reaches the broker and names its topics: the `KAFKA_*` variables of the table
/// above.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    /// `KAFKA_BROKERS`: the bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// `KAFKA_TOPIC_PREFIX`: prepended to every topic and consumer group, so that tests (or
    /// several systems on one broker) do not see each other's records.
    pub topic_prefix: String,
    /// `KAFKA_PARTITIONS`: partitions of the topics a service provisions.
    pub partitions: i32,
    /// `KAFKA_REPLICATION_FACTOR`: replication factor of the topics a service provisions.
    pub replication_factor: i32,
    /// `KAFKA_MIN_INSYNC_REPLICAS`: the `min.insync.replicas` of the topics a service
    /// provisions; `None` leaves the broker's default.
    pub min_insync_replicas: Option<u32>,
    /// Producer `linger.ms`: how long a record waits for others to share its request.
    pub linger_ms: u32,
    /// Consumer `fetch.wait.max.ms`; `None` keeps librdkafka's default.
    pub fetch_wait_max_ms: Option<u32>,
    /// Producer `enable.idempotence`: retries keep each partition's order and write no
    /// duplicates.
    pub idempotence: bool,
    /// Consumer `group.instance.id` (static membership), if set: a restarted instance takes its
    /// partitions back at once.
    pub group_instance_id: Option<String>,
    /// How the clients authenticate and encrypt: `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`,
    /// `KAFKA_SSL_CA_LOCATION`.
    pub security: KafkaSecurity,
    /// `LIBRDKAFKA_<NAME>` pass-through properties, applied last to every client.
    pub extra: Vec<(String, SecretString)>,
}

/// `security.protocol`: whether the connection is encrypted (SSL) and authenticated (SASL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    /// Neither: only for a broker that offers a plaintext listener (never the local stack's).
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL without TLS: credentials and records travel in clear.
    SaslPlaintext,
    /// SASL over TLS: the local stack's and compose's broker, and managed Kafka's.
    SaslSsl,
}

impl SecurityProtocol {
    /// The name librdkafka and Kafka use, e.g. `SASL_SSL`.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether the client authenticates with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    /// Whether the connection is TLS.
    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

impl std::str::FromStr for SecurityProtocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            _ => Err("expected SASL_SSL, SSL, SASL_PLAINTEXT or PLAINTEXT".to_owned()),
        }
    }
}

/// How a client proves who it is and checks the broker: the `KAFKA_SECURITY_PROTOCOL`,
/// `KAFKA_SASL_*` and `KAFKA_SSL_CA_LOCATION` variables. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct KafkaSecurity {
    /// `security.protocol`.
    pub protocol: SecurityProtocol,
    /// `sasl.mechanisms`, used with a SASL protocol.
    pub sasl_mechanism: String,
    /// `sasl.username`: the principal.
    pub username: Option<String>,
    /// `sasl.password`.
    pub password: Option<SecretString>,
    /// `ssl.ca.location`; `None` leaves librdkafka's default (the system's CAs).
    pub ca_location: Option<PathBuf>,
}

impl Default for KafkaSecurity {
    /// The local stack's posture, with no principal yet: SASL/SCRAM-SHA-512 over TLS, checked
    /// against the stack's CA.
    fn default() -> Self {
        let ca = LocalStack::default().ca_file();
        KafkaSecurity {
            protocol: SecurityProtocol::SaslSsl,
            sasl_mechanism: "SCRAM-SHA-512".into(),
            username: None,
            password: None,
            ca_location: ca.is_file().then_some(ca),
        }
    }
}

impl KafkaSecurity {
    /// The local stack's credentials of `principal` (its password read from
    /// `.stack/secrets/kafka-<principal>.password`, if that file is there).
    pub fn local(principal: &str) -> KafkaSecurity {
        KafkaSecurity {
            username: Some(principal.to_owned()),
            password: LocalStack::default()
                .password(&format!("kafka-{principal}"))
                .ok(),
            ..KafkaSecurity::default()
        }
    }

    /// Reads the security variables; the principal defaults to `principal`, and its password
    /// to the local stack's file for that principal.
    pub fn read(env: &Env, principal: &str) -> Result<KafkaSecurity, ConfigError> {
        // The defaults but the CA, which is the local stack's only if `env` has that file.
        let d = KafkaSecurity::default();
        let stack = LocalStack::default();
        let protocol: SecurityProtocol = env.or("KAFKA_SECURITY_PROTOCOL", d.protocol)?;
        let username = env.or("KAFKA_SASL_USERNAME", principal.to_owned())?;
        let password = if protocol.uses_sasl() {
            Some(env.secret_or_file(
                "KAFKA_SASL_PASSWORD",
                &stack.password_file(&format!("kafka-{username}")),
            )?)
        } else {
            None
        };
        let local_ca = stack.ca_file();
        let ca_location = match env.opt::<PathBuf>("KAFKA_SSL_CA_LOCATION")? {
            Some(path) => Some(path),
            None => env.is_file(&local_ca).then_some(local_ca),
        };
        Ok(KafkaSecurity {
            protocol,
            sasl_mechanism: env.or("KAFKA_SASL_MECHANISM", d.sasl_mechanism)?,
            username: Some(username),
            password,
            ca_location,
        })
    }

    /// Sets these properties on a client's configuration.
    fn apply(&self, c: &mut ClientConfig) {
        c.set("security.protocol", self.protocol.as_str());
        if self.protocol.uses_sasl() {
            c.set("sasl.mechanisms", &self.sasl_mechanism);
            if let Some(user) = &self.username {
                c.set("sasl.username", user);
            }
            if let Some(password) = &self.password {
                c.set("sasl.password", password.expose_secret());
            }
        }
        if self.protocol.uses_tls() {
            if let Some(ca) = &self.ca_location {
                c.set("ssl.ca.location", ca.to_string_lossy());
            }
        }
    }
}

impl std::fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The librdkafka property a `LIBRDKAFKA_<NAME>` variable sets: `<NAME>` lower-cased, `__`
/// read as `_` and `_` as `.`.
pub fn passthrough_property(variable: &str) -> Option<String> {
    let name = variable.strip_prefix("LIBRDKAFKA_")?;
    if name.is_empty() {
        return None;
    }
    Some(
        name.to_ascii_lowercase()
            .split("__")
            .map(|part| part.replace('_', "."))
            .collect::<Vec<_>>()
            .join("_"),
    )
}

/// The `LIBRDKAFKA_*` variables of `env`, as (property, value), sorted by property.
fn passthrough(env: &Env) -> Vec<(String, SecretString)> {
    let mut extra: Vec<(String, SecretString)> = env
        .with_prefix("LIBRDKAFKA_")
        .into_iter()
        .filter_map(|(k, v)| passthrough_property(&k).map(|p| (p, SecretString::from(v))))
        .collect();
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    extra
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic_prefix: String::new(),
            partitions: 6,
            replication_factor: 1,
            min_insync_replicas: None,
            linger_ms: 0,
            fetch_wait_max_ms: None,
            idempotence: true,
            group_instance_id: None,
            security: KafkaSecurity::default(),
            extra: Vec::new(),
        }
    }
}

impl KafkaConfig {
    /// The local stack's broker as `principal`, with its password from the stack's secrets.
    pub fn local(principal: &str) -> KafkaConfig {
        KafkaConfig {
            security: KafkaSecurity::local(principal),
            ..KafkaConfig::default()
        }
    }

    /// The same broker and namespace as `principal` of the local stack (a test that runs a
    /// service under its own name next to the operator's clients).
    pub fn as_local_principal(&self, principal: &str) -> KafkaConfig {
        KafkaConfig {
            security: KafkaSecurity {
                username: Some(principal.to_owned()),
                password: LocalStack::default()
                    .password(&format!("kafka-{principal}"))
                    .ok(),
                ..self.security.clone()
            },
            ..self.clone()
        }
    }

    /// Reads the `KAFKA_*` and `LIBRDKAFKA_*` variables of the process ([`read`](Self::read)).
    pub fn from_env(principal: &str) -> Result<KafkaConfig, ConfigError> {
        KafkaConfig::read(&Env::process(), principal)
    }

    /// Reads the `KAFKA_*` and `LIBRDKAFKA_*` variables, each defaulting to
    /// [`KafkaConfig::default`]'s value (the local stack's broker) when unset or empty; the
    /// SASL principal defaults to `principal` (the service's name, or `operator`).
    pub fn read(env: &Env, principal: &str) -> Result<KafkaConfig, ConfigError> {
        let d = KafkaConfig::default();
        Ok(KafkaConfig {
            brokers: env.or("KAFKA_BROKERS", d.brokers)?,
            topic_prefix: env.or("KAFKA_TOPIC_PREFIX", d.topic_prefix)?,
            partitions: env.or("KAFKA_PARTITIONS", d.partitions)?,
            replication_factor: env.or("KAFKA_REPLICATION_FACTOR", d.replication_factor)?,
            min_insync_replicas: env.opt("KAFKA_MIN_INSYNC_REPLICAS")?,
            linger_ms: env.or("KAFKA_LINGER_MS", d.linger_ms)?,
            fetch_wait_max_ms: env.opt("KAFKA_FETCH_WAIT_MAX_MS")?,
            idempotence: env.or("KAFKA_IDEMPOTENCE", d.idempotence)?,
            group_instance_id: env.opt("KAFKA_GROUP_INSTANCE_ID")?,
            security: KafkaSecurity::read(env, principal)?,
            extra: passthrough(env),
        })
    }

    /// The security properties and the pass-through ones, applied to a client's settings.
    fn secure(&self, mut c: ClientConfig) -> ClientConfig {
        self.security.apply(&mut c);
        for (property, value) in &self.extra {
            c.set(property, value.expose_secret());
        }
        c
    }

    /// The topic that carries `event_type`.
    pub fn topic(&self, event_type: EventType) -> String {
        format!("{}{}", self.topic_prefix, event_type.as_str())
    }

    /// Its dead-letter topic, `<topic>.dlq`.
    pub fn dlq_topic(&self, event_type: EventType) -> String {
        format!("{}.dlq", self.topic(event_type))
    }

    /// The event type a topic of this namespace carries, if any.
    pub fn event_type_of(&self, topic: &str) -> Option<EventType> {
        topic
            .strip_prefix(self.topic_prefix.as_str())
            .and_then(EventType::parse)
    }

    /// The consumer group of a service, in this namespace.
    pub fn group_id(&self, service: &str) -> String {
        format!("{}{}", self.topic_prefix, service)
    }

    /// The librdkafka settings of a producer: acks from all in-sync replicas, idempotence and
    /// `linger.ms` as configured.
    pub fn producer_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("linger.ms", self.linger_ms.to_string())
            .set("acks", "all")
            .set("enable.idempotence", self.idempotence.to_string())
            .set("compression.type", "none")
            .set("message.timeout.ms", "60000");
        self.secure(c)
    }

    /// The librdkafka settings of a consumer in `group_id`: offsets stored only by the runner,
    /// once an event's effect has committed, and committed automatically from there.
    pub fn consumer_config(&self, group_id: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("group.id", group_id)
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "500")
            // Offsets are stored by the runner only after the effect has committed.
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("topic.metadata.refresh.interval.ms", "10000");
        if let Some(wait) = self.fetch_wait_max_ms {
            c.set("fetch.wait.max.ms", wait.to_string());
        }
        if let Some(id) = &self.group_instance_id {
            c.set("group.instance.id", id);
        }
        self.secure(c)
    }

    /// The librdkafka settings of an admin client (topic provisioning, metadata).
    pub fn admin_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        self.secure(c)
    }
}

/// How long to wait for the broker before giving up at start-up.
pub const BROKER_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_namespaced() {
        let c = KafkaConfig {
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        assert_eq!(c.topic(EventType::OrderCreated), "t1.order.created");
        assert_eq!(c.dlq_topic(EventType::OrderCreated), "t1.order.created.dlq");
        assert_eq!(
            c.event_type_of("t1.order.created"),
            Some(EventType::OrderCreated)
        );
        assert_eq!(c.event_type_of("order.created"), None);
        assert_eq!(c.event_type_of("t1.order.created.dlq"), None);
        assert_eq!(c.group_id("billing"), "t1.billing");
    }

    #[test]
    fn passthrough_variables_name_librdkafka_properties() {
        assert_eq!(
            passthrough_property("LIBRDKAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM").as_deref(),
            Some("ssl.endpoint.identification.algorithm")
        );
        assert_eq!(
            passthrough_property("LIBRDKAFKA_A__B_C").as_deref(),
            Some("a_b.c")
        );
        assert_eq!(passthrough_property("LIBRDKAFKA_"), None);
        assert_eq!(passthrough_property("KAFKA_BROKERS"), None);
    }

    #[test]
    fn clients_carry_the_security_settings_and_never_print_the_password() {
        let c = KafkaConfig {
            security: KafkaSecurity {
                protocol: SecurityProtocol::SaslSsl,
                sasl_mechanism: "PLAIN".into(),
                username: Some("key".into()),
                password: Some(SecretString::from("hunter2".to_owned())),
                ca_location: Some("/ca.pem".into()),
            },
            extra: vec![("client.rack".into(), SecretString::from("r1".to_owned()))],
            ..KafkaConfig::default()
        };
        for client in [
            c.producer_config(),
            c.consumer_config("g"),
            c.admin_config(),
        ] {
            assert_eq!(client.get("security.protocol"), Some("SASL_SSL"));
            assert_eq!(client.get("sasl.mechanisms"), Some("PLAIN"));
            assert_eq!(client.get("sasl.username"), Some("key"));
            assert_eq!(client.get("sasl.password"), Some("hunter2"));
            assert_eq!(client.get("ssl.ca.location"), Some("/ca.pem"));
            assert_eq!(client.get("client.rack"), Some("r1"));
        }
        assert!(!format!("{c:?}").contains("hunter2"));
        let plain = KafkaConfig {
            security: KafkaSecurity {
                protocol: SecurityProtocol::Plaintext,
                ..c.security.clone()
            },
            ..c
        };
        let client = plain.admin_config();
        assert_eq!(client.get("sasl.password"), None);
        assert_eq!(client.get("ssl.ca.location"), None);
        assert_eq!(
            "sasl_ssl".parse::<SecurityProtocol>(),
            Ok(SecurityProtocol::SaslSsl)
        );
        assert!("TLS".parse::<SecurityProtocol>().is_err());
    }
}
