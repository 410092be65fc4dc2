//! A Kafka cluster of a test's own: `n` KRaft nodes, each both broker and controller (a quorum
//! of `n` voters), run from the jars `scripts/stack` fetched into
//! `.stack/kafka-dist/<version>/libs`, listening on an address the test picks (loopback, or
//! the host's end of a network namespace's link). A node can be killed (`kill -9`) and started
//! again on its log. With three nodes, internal topics are replicated three times and every
//! topic's `min.insync.replicas` defaults to 2, as a production cluster's would be.
//!
//! `scripts/stack` keeps its one broker; this is the test's own so that killing a node disturbs
//! no other test, and so that its configuration (node ids, the voters) lives beside the
//! scenarios that need it.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use saga_contracts::services::SERVICES;
use saga_messaging::secret::LocalStack;
use saga_tests::free_port;
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::harness::workspace_dir;

/// The cluster id every node is formatted with (any 22-character base64 UUID).
const CLUSTER_ID: &str = "e2eKRaftC1usterIdAAAAw";

/// How long a node has to join the cluster.
const START_WAIT: Duration = Duration::from_secs(90);

/// The directory of Kafka's jars that `scripts/stack` fetched: `KAFKA_DIST_DIR` (or
/// `.stack/kafka-dist`) / the version `scripts/stack` names in its `KAFKA_VERSION=` line.
fn kafka_libs() -> PathBuf {
    let repo = workspace_dir();
    let script = std::fs::read_to_string(repo.join("scripts/stack")).expect("scripts/stack");
    let version = script
        .lines()
        .find_map(|l| l.strip_prefix("KAFKA_VERSION="))
        .expect("scripts/stack names KAFKA_VERSION")
        .trim()
        .to_owned();
    let dist = std::env::var("KAFKA_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo.join(".stack/kafka-dist"))
        .join(&version);
    assert!(
        dist.join("complete").exists(),
        "Apache Kafka {version}'s jars are not in {} (scripts/stack up fetches them)",
        dist.display()
    );
    dist.join("libs")
}

/// One node: its id, ports, directory and (while it runs) its JVM.
struct Node {
    id: i32,
    port: u16,
    controller_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A KRaft cluster of combined broker and controller nodes. Dropping it kills every node and,
/// unless the test is failing, deletes their logs.
pub struct KraftCluster {
    host: String,
    nodes: Vec<Node>,
    libs: PathBuf,
    dir: PathBuf,
}

impl KraftCluster {
    /// Formats and starts `n` nodes listening on `host` (an address of this machine), and
    /// waits until every one of them is in the cluster's metadata.
    pub async fn start(n: usize, host: &str) -> KraftCluster {
        let dir = std::env::temp_dir().join(format!("e2e-kraft-{}", Uuid::new_v4().simple()));
        let nodes: Vec<Node> = (1..=n as i32)
            .map(|id| Node {
                id,
                port: free_port(),
                controller_port: free_port(),
                dir: dir.join(format!("node-{id}")),
                child: None,
            })
            .collect();
        let mut cluster = KraftCluster {
            host: host.to_owned(),
            nodes,
            libs: kafka_libs(),
            dir,
        };
        let started = Instant::now();
        std::fs::create_dir_all(&cluster.dir).expect("the cluster's directory");
        make_keystore(&cluster.host, &cluster.dir.join("broker.pem"));
        let mut formats = Vec::new();
        for i in 0..cluster.nodes.len() {
            cluster.write_config(i);
            let (libs, node_dir) = (cluster.libs.clone(), cluster.nodes[i].dir.clone());
            formats.push(tokio::task::spawn_blocking(move || {
                format(&libs, &node_dir)
            }));
        }
        for f in formats {
            f.await.expect("formatting a node");
        }
        for i in 0..cluster.nodes.len() {
            cluster.spawn(i);
        }
        cluster.wait_brokers(n).await;
        eprintln!(
            "e2e: KRaft cluster of {n} on {} up in {:.1}s (brokers {})",
            cluster.host,
            started.elapsed().as_secs_f64(),
            cluster.brokers()
        );
        cluster
    }

    /// `KAFKA_BROKERS` for the whole cluster.
    pub fn brokers(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("{}:{}", self.host, n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node ids.
    pub fn ids(&self) -> Vec<i32> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// `kill -9` node `id`.
    pub fn kill(&mut self, id: i32) {
        let node = self.node_mut(id);
        if let Some(mut child) = node.child.take() {
            eprintln!("e2e: kill -9 Kafka node {id} (pid {})", child.id());
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `id` again on its log and waits until the cluster lists it.
    pub async fn restart(&mut self, id: i32) -> Duration {
        let started = Instant::now();
        let i = self.nodes.iter().position(|n| n.id == id).expect("a node");
        self.spawn(i);
        self.wait_brokers(self.nodes.len()).await;
        started.elapsed()
    }

    fn node_mut(&mut self, id: i32) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("no Kafka node {id}"))
    }

    /// Writes node `i`'s `server.properties` and `log4j2.properties`.
    fn write_config(&self, i: usize) {
        let node = &self.nodes[i];
        let n = self.nodes.len();
        let replicas = n.min(3);
        let min_isr = if replicas >= 3 { 2 } else { 1 };
        let voters = self
            .nodes
            .iter()
            .map(|v| format!("{}@{}:{}", v.id, self.host, v.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        let (host, id, port, cport) = (&self.host, node.id, node.port, node.controller_port);
        let data = node.dir.join("data");
        std::fs::create_dir_all(&data).expect("creating a node's directory");
        let config = format!(
            "# Written by the e2e suite's KRaft cluster.
node.id={id}
process.roles=broker,controller
# The local stack's posture (scripts/stack): SASL_SSL with SCRAM for clients and brokers,
# TLS with PLAIN for the controllers, the stack's CA, ACLs with no allow-by-default.
listeners=SASL_SSL://{host}:{port},CONTROLLER://{host}:{cport}
advertised.listeners=SASL_SSL://{host}:{port}
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL
inter.broker.listener.name=SASL_SSL
controller.listener.names=CONTROLLER
controller.quorum.voters={voters}
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"broker\" password=\"{pw}\";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"{pw}\" user_broker=\"{pw}\";
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={ca}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:broker;User:operator
log.dirs={data}
auto.create.topics.enable=false
num.partitions=6
default.replication.factor={replicas}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={replicas}
# A test's few consumer groups: 6 partitions instead of 50 start and recover faster.
offsets.topic.num.partitions=6
transaction.state.log.replication.factor={replicas}
transaction.state.log.min.isr={min_isr}
share.coordinator.state.topic.replication.factor={replicas}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
",
            data = data.display(),
            pw = password("broker"),
            keystore = self.dir.join("broker.pem").display(),
            ca = LocalStack::default().ca_file().display(),
        );
        std::fs::write(node.dir.join("server.properties"), config).expect("server.properties");
        std::fs::write(
            node.dir.join("log4j2.properties"),
            "status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
",
        )
        .expect("log4j2.properties");
    }

    /// Starts node `i`'s JVM, logging to `<its dir>/kafka.log`.
    fn spawn(&mut self, i: usize) {
        let libs = self.libs.clone();
        let node = &mut self.nodes[i];
        assert!(node.child.is_none(), "Kafka node {} is running", node.id);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("kafka.log"))
            .expect("a node's log");
        let child = Command::new("java")
            .args([
                "-Xms256m",
                "-Xmx512m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true",
            ])
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                node.dir.join("log4j2.properties").display()
            ))
            .arg("-cp")
            .arg(format!("{}/*", libs.display()))
            .arg("kafka.Kafka")
            .arg(node.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log handle"))
            .stderr(log)
            .spawn()
            .expect("starting java (scripts/stack up installs Java 17)");
        node.child = Some(child);
    }

    /// Waits until the cluster's metadata lists `n` brokers, failing early if a node exited.
    async fn wait_brokers(&mut self, n: usize) {
        let deadline = Instant::now() + START_WAIT;
        loop {
            for node in &mut self.nodes {
                if let Some(Ok(Some(status))) = node.child.as_mut().map(Child::try_wait) {
                    panic!(
                        "Kafka node {} exited ({status}); its log: {}",
                        node.id,
                        node.dir.join("kafka.log").display()
                    );
                }
            }
            let brokers = self.brokers();
            let listed = tokio::task::spawn_blocking(move || broker_ids(&brokers))
                .await
                .expect("reading metadata");
            if listed.map(|ids| ids.len()) == Some(n) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the KRaft cluster did not list {n} brokers within {START_WAIT:?} (logs under {})",
                self.dir.display()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The run's partitions (those of topics starting with `prefix`), as read now.
    pub async fn partitions(&self, prefix: &str) -> Vec<PartitionState> {
        let (brokers, prefix) = (self.brokers(), prefix.to_owned());
        tokio::task::spawn_blocking(move || partitions(&brokers, &prefix))
            .await
            .expect("reading metadata")
    }

    /// How many of the run's partitions each node leads.
    pub async fn leaders(&self, prefix: &str) -> BTreeMap<i32, usize> {
        let mut led: BTreeMap<i32, usize> = self.ids().into_iter().map(|id| (id, 0)).collect();
        for p in self.partitions(prefix).await {
            *led.entry(p.leader).or_default() += 1;
        }
        led
    }
}

/// One partition as the metadata shows it.
#[derive(Debug, Clone)]
pub struct PartitionState {
    pub topic: String,
    pub partition: i32,
    /// The leader's node id (-1: none).
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// A metadata client of `brokers`.
fn metadata_client(brokers: &str) -> BaseConsumer {
    saga_tests::operator_kafka(brokers)
        .admin_config()
        .create()
        .expect("a metadata client")
}

/// The broker ids in the cluster's metadata, if a node answers within 5 s.
fn broker_ids(brokers: &str) -> Option<Vec<i32>> {
    let md = metadata_client(brokers)
        .fetch_metadata(None, Duration::from_secs(5))
        .ok()?;
    Some(md.brokers().iter().map(|b| b.id()).collect())
}

/// Every partition of the topics starting with `prefix` (none if no node answers).
fn partitions(brokers: &str, prefix: &str) -> Vec<PartitionState> {
    let Ok(md) = metadata_client(brokers).fetch_metadata(None, Duration::from_secs(10)) else {
        return Vec::new();
    };
    md.topics()
        .iter()
        .filter(|t| t.name().starts_with(prefix))
        .flat_map(|t| {
            t.partitions().iter().map(|p| PartitionState {
                topic: t.name().to_owned(),
                partition: p.id(),
                leader: p.leader(),
                replicas: p.replicas().to_vec(),
                isr: p.isr().to_vec(),
            })
        })
        .collect()
}

/// The local stack's password of the Kafka principal `name`.
fn password(name: &str) -> String {
    LocalStack::default()
        .password(&format!("kafka-{name}"))
        .map(|p| p.expose_secret().to_owned())
        .expect("the local stack's Kafka passwords (scripts/stack up makes them)")
}

/// `--add-scram` for the broker, the operator and each service, with the stack's passwords.
fn scram_args() -> Vec<String> {
    ["broker", "operator"]
        .into_iter()
        .chain(SERVICES.iter().map(|s| s.name))
        .flat_map(|name| {
            [
                "--add-scram".to_owned(),
                format!("SCRAM-SHA-512=[name={name},password={}]", password(name)),
            ]
        })
        .collect()
}

/// A key and certificate for `host`, signed by the local stack's CA, in one PEM file (Kafka's
/// PEM keystore) at `path`.
fn make_keystore(host: &str, path: &Path) {
    let ca = LocalStack::default().ca_file();
    let ca_key = ca.with_file_name("ca.key");
    let dir = path.parent().expect("a directory");
    let (key, csr, crt, ext) = (
        dir.join("broker.key"),
        dir.join("broker.csr"),
        dir.join("broker.crt"),
        dir.join("broker.ext"),
    );
    std::fs::write(
        &ext,
        format!("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:{host}\n"),
    )
    .expect("the certificate's extensions");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("running openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let p = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    run(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &p(&key),
        "-out",
        &p(&csr),
        "-subj",
        "/CN=e2e broker",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &p(&csr),
        "-CA",
        &p(&ca),
        "-CAkey",
        &p(&ca_key),
        "-set_serial",
        &format!("0x{}", Uuid::new_v4().simple()),
        "-days",
        "2",
        "-sha256",
        "-extfile",
        &p(&ext),
        "-out",
        &p(&crt),
    ]);
    let pem = format!(
        "{}{}",
        std::fs::read_to_string(&key).expect("the key"),
        std::fs::read_to_string(&crt).expect("the certificate")
    );
    std::fs::write(path, pem).expect("the keystore");
}

/// `kafka-storage format` for the node in `dir`.
fn format(libs: &Path, dir: &Path) {
    let out = Command::new("java")
        .arg(format!(
            "-Dlog4j2.configurationFile={}",
            dir.join("log4j2.properties").display()
        ))
        .arg("-cp")
        .arg(format!("{}/*", libs.display()))
        .args([
            "kafka.tools.StorageTool",
            "format",
            "--ignore-formatted",
            "--cluster-id",
            CLUSTER_ID,
            "--config",
        ])
        .arg(dir.join("server.properties"))
        .args(scram_args())
        .stdin(Stdio::null())
        .output()
        .expect("running Kafka's StorageTool");
    assert!(
        out.status.success(),
        "formatting {} failed: {}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for KraftCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "e2e: the KRaft cluster's logs are kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
