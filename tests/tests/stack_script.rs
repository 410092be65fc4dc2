//! `scripts/stack up` is idempotent: run twice in a row, the second run starts nothing,
//! changes nothing and says so, component by component.

use std::path::PathBuf;
use std::process::Command;

use saga_tests::free_port;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn stack_up() -> String {
    let out = Command::new(repo().join("scripts/stack"))
        .arg("up")
        .output()
        .expect("running scripts/stack up");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scripts/stack up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn broker_pid() -> Option<String> {
    std::fs::read_to_string(repo().join(".stack/kafka/kafka.pid")).ok()
}

fn mongodb_pid() -> Option<String> {
    std::fs::read_to_string(repo().join(".stack/mongodb/secantusd.pid")).ok()
}

fn keycloak_pid() -> Option<String> {
    std::fs::read_to_string(repo().join(".stack/keycloak/keycloak.pid")).ok()
}

#[test]
fn a_second_stack_up_is_a_no_op() {
    stack_up();
    let pid_before = broker_pid();
    let mongodb_before = mongodb_pid();
    let keycloak_before = keycloak_pid();
    let second = stack_up();
    let lines: Vec<&str> = second.lines().collect();
    assert_eq!(lines.len(), 6, "one line per component:\n{second}");
    assert!(
        lines[0].starts_with("credentials: CA, certificates and passwords in"),
        "nothing made again on the second run: {}",
        lines[0]
    );
    for (line, component) in lines[1..]
        .iter()
        .zip(["postgres", "redis", "broker", "mongodb", "keycloak"])
    {
        assert!(
            line.starts_with(&format!("{component}: already running")),
            "{component} was touched on the second run: {line}"
        );
    }
    assert_eq!(broker_pid(), pid_before, "the broker was not restarted");
    assert_eq!(
        mongodb_pid(),
        mongodb_before,
        "the MongoDB-protocol server was not restarted"
    );
    assert_eq!(
        keycloak_pid(),
        keycloak_before,
        "Keycloak was not restarted (its realm was not imported again)"
    );
}

/// A throw-away broker of this test's own: its own `STACK_DIR` and ports.
struct PrivateStack {
    dir: PathBuf,
    port: u16,
    controller_port: u16,
}

impl PrivateStack {
    fn new() -> PrivateStack {
        PrivateStack {
            dir: repo()
                .join("target/stack-test")
                .join(uuid::Uuid::new_v4().simple().to_string()),
            port: free_port(),
            controller_port: free_port(),
        }
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `scripts/stack <args>` for this broker: (success, stdout + stderr).
    fn run(&self, args: &[&str]) -> (bool, String) {
        saga_tests::scripts_stack(&self.dir, self.port, self.controller_port, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.run(args);
        assert!(ok, "scripts/stack {args:?} failed:\n{text}");
        text
    }

    fn broker_line(&self, text: &str) -> String {
        text.lines()
            .find(|l| l.starts_with("broker:"))
            .unwrap_or_else(|| panic!("no broker line in:\n{text}"))
            .to_owned()
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(self.dir.join("kafka/kafka.pid"))
            .expect("the broker's pid file")
            .trim()
            .to_owned()
    }
}

impl Drop for PrivateStack {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.pid_or_empty()])
            .status();
        let _ = self.run(&["down", "--purge"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl PrivateStack {
    fn pid_or_empty(&self) -> String {
        std::fs::read_to_string(self.dir.join("kafka/kafka.pid"))
            .map(|p| p.trim().to_owned())
            .unwrap_or_default()
    }
}

async fn produce(brokers: &str, topic: &str, payload: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let config = saga_tests::operator_kafka(brokers).admin_config();
    let admin: AdminClient<_> = config.create().expect("an admin client");
    let created = admin
        .create_topics(
            [&NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .expect("creating the topic");
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let producer: FutureProducer = config
        .clone()
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .create()
        .expect("a producer");
    producer
        .send(
            FutureRecord::<str, str>::to(topic)
                .key("k")
                .payload(payload),
            std::time::Duration::from_secs(30),
        )
        .await
        .expect("the broker acknowledged the record");
}

async fn first_record(brokers: &str, topic: &str) -> String {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::Message;

    let consumer: StreamConsumer = saga_tests::operator_kafka(brokers)
        .admin_config()
        .set("group.id", format!("reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("a consumer");
    consumer.subscribe(&[topic]).expect("subscribing");
    let message = tokio::time::timeout(std::time::Duration::from_secs(60), consumer.recv())
        .await
        .expect("a record within 60 s")
        .expect("a record");
    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()
}

/// The broker is Apache Kafka on a log of its own: a restart keeps what was written, a broker
/// that listens but cannot answer is reported as not serving, and only `down --purge` deletes
/// the log.
#[tokio::test]
async fn a_broker_keeps_its_log_and_is_reported_when_it_cannot_serve() {
    let stack = PrivateStack::new();
    let started = stack.broker_line(&stack.ok(&["restart-broker"]));
    assert!(
        started.contains("started Apache Kafka") && started.contains("formatted"),
        "{started}"
    );

    produce(&stack.brokers(), "kept", "written before the restart").await;
    let restarted = stack.ok(&["restart-broker"]);
    assert!(
        restarted.contains("broker: stopped") && restarted.contains("started Apache Kafka"),
        "{restarted}"
    );
    assert!(
        !restarted.contains("formatted"),
        "a restart must not format the log again:\n{restarted}"
    );
    assert_eq!(
        first_record(&stack.brokers(), "kept").await,
        "written before the restart"
    );

    let status = stack.broker_line(&stack.ok(&["status"]));
    assert!(status.starts_with("broker: up on"), "{status}");
    assert!(status.contains(": ok cluster"), "{status}");

    // A stopped process keeps its port open (the kernel still accepts connections), but it
    // answers nothing: status must not call that up.
    let pid = stack.pid();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let (ok, text) = stack.run(&["status"]);
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    assert!(
        !ok,
        "status must fail for a broker that cannot serve:\n{text}"
    );
    let line = stack.broker_line(&text);
    assert!(line.starts_with("broker: NOT SERVING"), "{line}");

    let down = stack.broker_line(&stack.ok(&["down"]));
    assert!(down.starts_with("broker: stopped"), "{down}");
    assert!(stack.dir.join("kafka/data/meta.properties").exists());
    let (ok, text) = stack.run(&["status"]);
    assert!(
        !ok && stack.broker_line(&text).starts_with("broker: DOWN"),
        "{text}"
    );

    let purged = stack.ok(&["down", "--purge"]);
    assert!(purged.contains("purged"), "{purged}");
    assert!(!stack.dir.join("kafka").exists());
}

#[test]
fn credentials_are_private_and_every_certificate_chains_to_the_stack_ca() {
    use std::os::unix::fs::PermissionsExt;

    stack_up();
    let secrets = repo().join(".stack/secrets");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&secrets), 0o700, "{}", secrets.display());
    let mut files = 0;
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path),
            0o600,
            "{} is readable by others",
            path.display()
        );
        files += 1;
    }
    assert!(
        files >= 7 + 5 + 2,
        "a password per principal, role and user: {files}"
    );
    let tls = repo().join(".stack/tls");
    assert_eq!(mode(&tls.join("ca.key")), 0o600);
    for server in ["broker", "postgres", "redis"] {
        let out = std::process::Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(tls.join("ca.crt"))
            .arg(tls.join(format!("{server}.crt")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{server}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// `scripts/token ARGS` with extra environment.
fn token(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(repo().join("scripts/token"));
    command.args(args);
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().expect("running scripts/token")
}

/// base64url without padding, as in a JWT.
fn base64url_decode(text: &str) -> Vec<u8> {
    let mut bits: u32 = 0;
    let mut held: u32 = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            other => panic!("not base64url: {other}"),
        };
        bits = (bits << 6) | u32::from(value);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    out
}

/// The claims of a JWT (not verified: the services' verifier has its own tests).
fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&base64url_decode(payload)).expect("the payload is JSON")
}

/// The stack's Keycloak issues the development accounts' tokens as SPEC §7 says (the issuer,
/// `aud` = saga-api, the fixed ids as `sub`, the realm role), `scripts/token` prints one line,
/// and it fails with Keycloak's reason when the grant is refused or nobody answers.
#[test]
fn scripts_token_prints_the_realms_access_tokens_and_fails_clearly() {
    stack_up();
    for (user, role, id) in [
        (
            "operator",
            "operator",
            "2c598215-9663-4012-bb19-9ac193d0f3e7",
        ),
        ("alice", "customer", "7c5f1269-908e-4cef-a5af-90e6107b32af"),
        ("bob", "customer", "a1390ae0-60db-49d7-ab4c-a7adeafea4ee"),
    ] {
        let out = token(&[user], &[]);
        assert!(
            out.status.success(),
            "scripts/token {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
        let claims = claims(stdout.trim());
        assert_eq!(claims["iss"], "http://127.0.0.1:8080/realms/saga", "{user}");
        assert_eq!(claims["aud"], "saga-api", "{user}");
        assert_eq!(claims["sub"], id, "{user}");
        assert_eq!(claims["azp"], "saga-cli", "{user}");
        assert_eq!(
            claims["realm_access"]["roles"],
            serde_json::json!([role]),
            "{user}"
        );
    }

    let out = token(&["--client"], &[]);
    assert!(
        out.status.success(),
        "scripts/token --client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims = claims(String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(claims["azp"], "saga-tools");
    assert_eq!(claims["aud"], "saga-api");
    assert_eq!(claims["sub"], "afea51e9-e58b-46c4-8191-aefe0170fbb5");
    assert_eq!(
        claims["realm_access"]["roles"],
        serde_json::json!(["operator"])
    );

    let refused = token(&["alice"], &[("TOKEN_PASSWORD", "not-alice")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Invalid user credentials"), "{stderr}");

    let issuer = format!("http://127.0.0.1:{}/realms/saga", free_port());
    let down = token(&["alice"], &[("AUTH_ISSUER", issuer.as_str())]);
    assert_eq!(down.status.code(), Some(1));
    assert!(down.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert!(stderr.contains("does not answer"), "{stderr}");
}
