//! The docker compose deployment, checked without a Docker engine, on the model compose itself
//! makes of `docker-compose.yml`.
//!
//! `tests/compose-check` (Go) loads the file with compose-go, the parser of Docker Compose,
//! which rejects what compose would (schema, merges, interpolation, references to services and
//! volumes), and prints the normalised project as JSON; these tests assert on that model. Each
//! service's environment is checked against the code that reads it: its settings are loaded from
//! that environment alone (`saga_kit::service::load`, as its `main` does) through a
//! [`Vars`], which notes every variable and file asked for. So every variable compose sets must
//! be one the service reads, everything it needs must be set (the settings load, and every
//! server they name is a compose service it waits for), and every file it reads must be in its
//! own credentials. Then `docker/credentials` runs here and must make every file the model
//! points a container at, owned by the uid that reads it.
//!
//! Go is part of the toolchain this suite needs: without it these tests fail and say so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use mongodb::options::{ServerAddress, Tls};
use reqwest::Url;
use saga_contracts::services::SERVICES;
use saga_kit::service::{load, ServiceSettings};
use saga_messaging::env::{Asked, Env, Vars};
use saga_messaging::postgres::PgSettings;
use saga_messaging::provision::{self, plan, OPERATOR};
use saga_messaging::redis_store::{RedisSettings, RedisTls};
use saga_messaging::KafkaConfig;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sqlx::postgres::PgSslMode;

// ---------------------------------------------------------------------------------------------
// The model: compose-go's project, as tests/compose-check prints it.

#[derive(Debug, Deserialize)]
struct Project {
    services: BTreeMap<String, Service>,
    #[serde(default)]
    volumes: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Service {
    image: Option<String>,
    build: Option<Build>,
    command: Option<Vec<String>>,
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    environment: BTreeMap<String, Option<String>>,
    #[serde(default)]
    volumes: Vec<Mount>,
    #[serde(default)]
    ports: Vec<Port>,
    #[serde(default)]
    depends_on: BTreeMap<String, Dependency>,
    healthcheck: Option<Healthcheck>,
    restart: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Build {
    context: String,
    dockerfile: String,
}

#[derive(Debug, Deserialize)]
struct Mount {
    #[serde(rename = "type")]
    kind: String,
    source: String,
    target: String,
    #[serde(default)]
    read_only: bool,
    volume: Option<VolumeOptions>,
}

#[derive(Debug, Deserialize)]
struct VolumeOptions {
    subpath: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Port {
    host_ip: Option<String>,
    target: u16,
    published: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    condition: String,
}

#[derive(Debug, Deserialize)]
struct Healthcheck {
    #[serde(default)]
    test: Vec<String>,
    #[serde(default)]
    disable: bool,
}

impl Service {
    /// Its environment, as compose gives it (a variable without a value is left out).
    fn env(&self) -> BTreeMap<String, String> {
        self.environment
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
    }

    /// Its mount of the credentials volume: (the volume's directory, where it is mounted).
    fn credentials(&self) -> Option<(Option<&str>, &Mount)> {
        let mut mounts = self.volumes.iter().filter(|m| m.source == "credentials");
        let mount = mounts.next()?;
        assert!(mounts.next().is_none(), "one credentials mount: {self:?}");
        Some((
            mount.volume.as_ref().and_then(|v| v.subpath.as_deref()),
            mount,
        ))
    }

    /// A one-shot: it runs once to completion, and what needs it waits for its success.
    fn one_shot(&self) -> bool {
        self.restart.as_deref() == Some("no")
    }

    /// The value after `flag` in its command (`--port 0`).
    fn flag(&self, flag: &str) -> Option<&str> {
        let command = self.command.as_deref().unwrap_or_default();
        let at = command.iter().position(|a| a == flag)?;
        command.get(at + 1).map(String::as_str)
    }
}

/// The model, and its JSON.
struct Model {
    project: Project,
    json: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

fn read(path: impl AsRef<Path>) -> String {
    let path = repo().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The Go toolchain: `go` on PATH, or where its installer puts it.
fn go() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("go"))
            .find(|g| g.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/local/go/bin/go")).filter(|g| g.is_file()))
        .expect(
            "Go is needed to load docker-compose.yml with compose-go (tests/compose-check), and \
             there is no `go` on PATH nor /usr/local/go/bin/go: install Go (https://go.dev/dl)",
        )
}

/// The project compose-go loads from `docker-compose.yml`, once per test run.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let out = Command::new(go())
            .current_dir(repo().join("tests/compose-check"))
            .args(["run", "-mod=readonly", ".", "../../docker-compose.yml"])
            .output()
            .expect("running go run ./tests/compose-check");
        assert!(
            out.status.success(),
            "compose-go does not load docker-compose.yml:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).expect("compose-check prints UTF-8");
        let project = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("compose-check's model does not parse: {e}\n{json}"));
        Model { project, json }
    })
}

fn project() -> &'static Project {
    &model().project
}

fn service(name: &str) -> &'static Service {
    project()
        .services
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name}"))
}

// ---------------------------------------------------------------------------------------------
// What each container reads, as its own code reads it.

/// A server a client's settings name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Server {
    host: String,
    port: u16,
}

/// How a service reaches its store, from its loaded settings.
#[derive(Debug)]
struct StoreClient {
    server: Server,
    user: String,
    password: Option<String>,
    /// The CA the connection verifies the server against; `None` if it is not TLS.
    ca: Option<PathBuf>,
}

/// A container's settings, loaded from the environment compose gives it.
struct Reads {
    asked: Asked,
    kafka: KafkaConfig,
    /// The HTTP listener and token verifier; the operator's tool has none.
    service: Option<ServiceSettings>,
    store: Option<StoreClient>,
}

/// The settings of `name` (a service, or `provision`), loaded by the code its binary runs from
/// `vars`.
fn load_settings(name: &str, vars: &Vars) -> anyhow::Result<Reads> {
    let env = Env::new(vars);
    let (kafka, service, store) = match name {
        "customer" => {
            let (_, s) = load(&env, customer::configuration::read)?;
            (
                s.service.kafka.clone(),
                Some(s.service),
                Some(pg(&s.database)),
            )
        }
        "orders" => {
            let (_, s) = load(&env, orders::configuration::Settings::read)?;
            let store = pg(&s.postgres.database);
            (
                s.postgres.service.kafka.clone(),
                Some(s.postgres.service),
                Some(store),
            )
        }
        "billing" => {
            let (_, s) = load(&env, billing::configuration::Settings::read)?;
            let store = pg(&s.postgres.database);
            (
                s.postgres.service.kafka.clone(),
                Some(s.postgres.service),
                Some(store),
            )
        }
        "inventory" => {
            use inventory::configuration::StoreSettings;
            let (_, s) = load(&env, inventory::configuration::Settings::read)?;
            let store = match &s.store {
                StoreSettings::Postgres(database) => pg(database),
                StoreSettings::Mongo { url, password } => mongo(url, password.clone()),
            };
            (s.service.kafka.clone(), Some(s.service), Some(store))
        }
        "notification" => {
            let (_, s) = load(&env, notification::configuration::Settings::read)?;
            (
                s.service.kafka.clone(),
                Some(s.service),
                Some(redis(&s.redis)),
            )
        }
        "provision" => (provision::settings(&env)?, None, None),
        other => panic!("no settings known for {other}"),
    };
    Ok(Reads {
        asked: vars.asked(),
        kafka,
        service,
        store,
    })
}

fn pg(database: &PgSettings) -> StoreClient {
    let options = database.connect_options().expect("the database's options");
    let url = Url::parse(&database.url).expect("DATABASE_URL is a URL");
    let root = url.query_pairs().find(|(k, _)| k == "sslrootcert");
    StoreClient {
        server: Server {
            host: options.get_host().to_owned(),
            port: options.get_port(),
        },
        user: options.get_username().to_owned(),
        password: database
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_owned()),
        ca: matches!(options.get_ssl_mode(), PgSslMode::VerifyFull)
            .then(|| root.map(|(_, v)| PathBuf::from(v.as_ref())))
            .flatten(),
    }
}

fn mongo(url: &str, password: Option<secrecy::SecretString>) -> StoreClient {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let options = runtime
        .block_on(inventory::store::mongo::client_options(url, password))
        .expect("the store's client options");
    let [ServerAddress::Tcp { host, port }] = options.hosts.as_slice() else {
        panic!("one TCP host: {:?}", options.hosts);
    };
    let credential = options.credential.expect("a user");
    StoreClient {
        server: Server {
            host: host.clone(),
            port: port.unwrap_or(27017),
        },
        user: credential.username.expect("a user name"),
        password: credential.password,
        ca: match options.tls {
            Some(Tls::Enabled(tls)) => tls.ca_file_path,
            _ => None,
        },
    }
}

fn redis(settings: &RedisSettings) -> StoreClient {
    let url = Url::parse(&settings.to_string()).expect("a Redis URL");
    StoreClient {
        server: Server {
            host: url.host_str().expect("a host").to_owned(),
            port: url.port().unwrap_or(6379),
        },
        user: settings.user().unwrap_or("default").to_owned(),
        password: settings.password().map(|p| p.expose_secret().to_owned()),
        ca: match settings.tls() {
            RedisTls::CaFile(path) => Some(path.clone()),
            RedisTls::Off | RedisTls::SystemRoots => None,
        },
    }
}

/// The containers that run the project's binaries with settings of their own.
fn clients() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|s| s.name).chain(["provision"])
}

/// Each client's settings, loaded from its compose environment alone, with a file (of
/// placeholder content) at every path its environment names in its own credentials mount: a
/// file anywhere else (the local stack's) is not there, as in a container.
fn settings() -> &'static BTreeMap<&'static str, Reads> {
    static SETTINGS: OnceLock<BTreeMap<&'static str, Reads>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        clients()
            .map(|name| {
                let container = service(name);
                let (_, mount) = container
                    .credentials()
                    .unwrap_or_else(|| panic!("{name} mounts no credentials"));
                let env = container.env();
                let mut vars = Vars::new(env.clone());
                for value in env.values() {
                    if value.starts_with(&format!("{}/", mount.target)) {
                        vars = vars.with_file(value, format!("placeholder of {value}"));
                    }
                }
                let reads = load_settings(name, &vars).unwrap_or_else(|e| {
                    panic!("{name}'s settings do not load from its compose environment: {e:#}")
                });
                (name, reads)
            })
            .collect()
    })
}

/// The servers a client's settings name: the brokers, its store, its identity provider's
/// discovery document.
fn servers(reads: &Reads) -> Vec<Server> {
    let mut servers: Vec<Server> = reads
        .kafka
        .brokers
        .split(',')
        .map(|b| {
            let (host, port) = b.rsplit_once(':').expect("host:port");
            Server {
                host: host.to_owned(),
                port: port.parse().expect("a port"),
            }
        })
        .collect();
    servers.extend(reads.store.iter().map(|s| s.server.clone()));
    if let Some(service) = &reads.service {
        let url = Url::parse(&service.auth.discovery_url).expect("a URL");
        servers.push(Server {
            host: url.host_str().expect("a host").to_owned(),
            port: url.port_or_known_default().expect("a port"),
        });
    }
    servers
}

// ---------------------------------------------------------------------------------------------
// The services' environment against what their code reads.

#[test]
fn every_variable_compose_sets_is_one_the_code_reads_and_every_file_read_is_its_own() {
    for (name, reads) in settings() {
        let container = service(name);
        for variable in container.env().keys() {
            assert!(
                reads.asked.reads(variable),
                "compose sets {variable} for {name}, which its settings never read \
                 (they read {:?})",
                reads.asked.names
            );
        }
        let (_, mount) = container.credentials().expect("a credentials mount");
        for file in &reads.asked.files {
            assert!(
                file.starts_with(&mount.target),
                "{name} reads {}, outside its credentials ({})",
                file.display(),
                mount.target
            );
        }
        if let Some(settings) = &reads.service {
            // docker/healthcheck, the container's health check, reads HTTP_PORT too.
            assert_eq!(
                container.env().get("HTTP_PORT"),
                Some(&settings.http_port.to_string()),
                "{name}: HTTP_PORT is set for the health check"
            );
        }
    }
    // The recorder sees what the settings read, set or not.
    let orders = &settings()["orders"].asked;
    assert!(orders.reads("DEADLINE_POLL_MS") && orders.reads("LIBRDKAFKA_ANYTHING"));
    assert!(!orders.reads("REDIS_URL"), "{orders:?}");
}

#[test]
fn each_client_waits_for_every_server_its_settings_name() {
    for (name, reads) in settings() {
        let depends = &service(name).depends_on;
        for server in servers(reads) {
            let target = project().services.get(&server.host).unwrap_or_else(|| {
                panic!("{name} reaches {server:?}, which is no compose service (a default?)")
            });
            assert!(
                !target.one_shot(),
                "{name} reaches the one-shot {}",
                server.host
            );
            assert_eq!(
                depends.get(&server.host).map(|d| d.condition.as_str()),
                Some("service_healthy"),
                "{name} must start once {} is healthy",
                server.host
            );
        }
    }
}

#[test]
fn each_service_is_its_own_principal_whose_rules_the_operator_provisions() {
    let operator = &settings()["provision"].kafka;
    assert_eq!(operator.security.username.as_deref(), Some(OPERATOR));
    let planned: BTreeSet<String> = plan(operator, &SERVICES)
        .rules
        .into_iter()
        .map(|r| r.principal)
        .collect();
    let mut principals = BTreeSet::new();
    for events in SERVICES {
        let reads = &settings()[events.name];
        let kafka = &reads.kafka;
        let principal = kafka.security.username.clone().expect("a principal");
        assert_eq!(principal, events.name, "{}: its own principal", events.name);
        assert!(
            principals.insert(principal.clone()),
            "{principal} is shared"
        );
        assert!(
            planned.contains(&format!("User:{principal}")),
            "provision makes no rules for {principal}"
        );
        assert_eq!(
            kafka.topic_prefix, operator.topic_prefix,
            "{}: the namespace provision made the topics and rules in",
            events.name
        );
        // Its topics and rules exist before it starts.
        assert_eq!(
            service(events.name)
                .depends_on
                .get("provision")
                .map(|d| d.condition.as_str()),
            Some("service_completed_successfully"),
            "{} starts once provision has made its topics and rules",
            events.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Images, health checks, dependencies, ports, volumes.

/// `KAFKA_VERSION=…` or `KEYCLOAK_VERSION=…`: the version scripts/stack pins for the local
/// stack.
fn stack_pin(variable: &str) -> String {
    read("scripts/stack")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{variable}=")))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("scripts/stack pins no {variable}"))
}

/// True for a pinned version tag such as `4.4.0`, `16.9-bookworm` or `7.0.16`.
fn pinned(tag: &str) -> bool {
    let version = tag.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| p.parse::<u32>().is_ok())
}

#[test]
fn images_are_pinned_and_the_local_stacks_versions() {
    assert_eq!(
        service("kafka").image.as_deref(),
        Some(format!("apache/kafka:{}", stack_pin("KAFKA_VERSION")).as_str()),
        "compose and scripts/stack run one Kafka version"
    );
    assert_eq!(
        service("keycloak").image.as_deref(),
        Some(
            format!(
                "quay.io/keycloak/keycloak:{}",
                stack_pin("KEYCLOAK_VERSION")
            )
            .as_str()
        ),
        "compose and scripts/stack run one Keycloak version"
    );
    for (name, container) in &project().services {
        let image = container.image.as_deref().expect("an image");
        match &container.build {
            // The project image: the five services, provision and credentials.
            Some(build) => {
                assert_eq!(image, "saga-services:local", "{name}");
                assert_eq!(
                    (build.context.as_str(), build.dockerfile.as_str()),
                    (".", "Dockerfile")
                );
            }
            None => {
                let (_, tag) = image.rsplit_once(':').unwrap_or_default();
                assert!(pinned(tag), "{name}: {image} is not a pinned version");
            }
        }
    }
    assert!(pinned("16.9-bookworm") && pinned("4.4.0"));
    assert!(!pinned("latest") && !pinned("16") && !pinned("7-bookworm"));
}

#[test]
fn each_binary_runs_in_its_container_of_the_project_image() {
    for events in SERVICES {
        let container = service(events.name);
        assert!(
            container.build.is_some(),
            "{}: the project image",
            events.name
        );
        assert_eq!(
            container.command.as_deref(),
            Some([events.name.to_owned()].as_slice())
        );
    }
    assert_eq!(
        service("provision").command.as_deref(),
        Some(["provision".to_owned()].as_slice())
    );
    let credentials = service("credentials")
        .command
        .as_deref()
        .unwrap_or_default();
    assert_eq!(credentials.first().map(String::as_str), Some("credentials"));
}

#[test]
fn long_running_containers_have_health_checks_and_one_shots_are_waited_for_to_succeed() {
    for (name, container) in &project().services {
        if container.one_shot() {
            assert!(
                container.healthcheck.is_none() && container.ports.is_empty(),
                "{name}"
            );
        } else {
            let check = container
                .healthcheck
                .as_ref()
                .unwrap_or_else(|| panic!("{name} has no health check"));
            assert!(
                !check.disable
                    && matches!(
                        check.test.first().map(String::as_str),
                        Some("CMD" | "CMD-SHELL")
                    ),
                "{name}: {check:?}"
            );
            assert_eq!(
                container.restart.as_deref(),
                Some("unless-stopped"),
                "{name}"
            );
        }
        for (dependency, d) in &container.depends_on {
            let expected = if service(dependency).one_shot() {
                "service_completed_successfully"
            } else {
                "service_healthy"
            };
            assert_eq!(d.condition, expected, "{name} after {dependency}");
        }
    }
    // The services' check: GET /health on HTTP_PORT, by docker/healthcheck (its own tests run
    // it), which the image installs as `healthcheck`.
    for events in SERVICES {
        let check = service(events.name).healthcheck.as_ref().expect("a check");
        assert_eq!(check.test, ["CMD", "healthcheck"], "{}", events.name);
    }
}

/// Whether `name` starts only after `one_shot` completed, directly or through what it waits for.
fn starts_after(name: &str, one_shot: &str) -> bool {
    service(name).depends_on.iter().any(|(dependency, d)| {
        (dependency == one_shot && d.condition == "service_completed_successfully")
            || starts_after(dependency, one_shot)
    })
}

#[test]
fn whatever_reads_the_credentials_starts_after_they_are_made() {
    for (name, container) in &project().services {
        let Some((subpath, mount)) = container.credentials() else {
            continue;
        };
        if name == "credentials" {
            assert_eq!((subpath, mount.read_only), (None, false), "it makes them");
            continue;
        }
        let subpath = subpath.unwrap_or_else(|| panic!("{name} mounts the whole volume"));
        assert!(mount.read_only, "{name}: its credentials are read-only");
        assert_eq!(mount.target, format!("/run/saga/{subpath}"), "{name}");
        assert!(
            starts_after(name, "credentials"),
            "{name} may start before its credentials exist"
        );
    }
    // Each client's directory is its principal's: its password for the broker is its own.
    for (name, reads) in settings() {
        let (subpath, _) = service(name).credentials().expect("credentials");
        assert_eq!(subpath, reads.kafka.security.username.as_deref(), "{name}");
    }
}

#[test]
fn only_the_services_and_the_issuer_are_published_on_loopback() {
    let mut published = BTreeMap::new();
    for (name, container) in &project().services {
        for port in &container.ports {
            assert_eq!(
                port.host_ip.as_deref(),
                Some("127.0.0.1"),
                "{name}: loopback only"
            );
            let host: u16 = port
                .published
                .as_deref()
                .and_then(|p| p.parse().ok())
                .expect("a port");
            assert!(
                published
                    .insert(host, (name.as_str(), port.target))
                    .is_none(),
                "{host} twice"
            );
        }
    }
    let mut expected = BTreeMap::new();
    for events in SERVICES {
        let port = settings()[events.name]
            .service
            .as_ref()
            .expect("a service")
            .http_port;
        expected.insert(port, (events.name, port));
    }
    // The issuer the services trust is where browsers and the host's tools reach Keycloak.
    let issuer = issuer();
    let issuer_port = issuer.port_or_known_default().expect("a port");
    assert_eq!(issuer.host_str(), Some("127.0.0.1"));
    expected.insert(issuer_port, ("keycloak", issuer_port));
    assert_eq!(
        published, expected,
        "the stores and the broker stay inside the network"
    );
}

/// The issuer every service trusts (one for all).
fn issuer() -> Url {
    let issuers: BTreeSet<&str> = settings()
        .values()
        .filter_map(|r| r.service.as_ref())
        .map(|s| s.auth.issuer.as_str())
        .collect();
    let [issuer] = issuers.into_iter().collect::<Vec<_>>()[..] else {
        panic!("the services trust one issuer");
    };
    Url::parse(issuer).expect("a URL")
}

#[test]
fn keycloak_imports_the_realm_whose_tokens_the_services_accept() {
    let keycloak = service("keycloak");
    let realm_file = "./scripts/keycloak/realm-saga.json";
    let import = keycloak
        .volumes
        .iter()
        .find(|m| m.source == realm_file)
        .expect("keycloak mounts the local stack's realm file");
    assert!(import.target.starts_with("/opt/keycloak/data/import/") && import.read_only);
    let realm: serde_json::Value = serde_json::from_str(&read(realm_file)).expect("JSON");
    let name = realm["realm"].as_str().expect("the realm's name");
    let hostname = &keycloak.env()["KC_HOSTNAME"];
    let issuer = issuer();
    assert_eq!(issuer.as_str(), format!("{hostname}/realms/{name}"));
    // Inside the network the services fetch the same realm's discovery document from keycloak.
    for reads in settings().values() {
        let Some(service) = &reads.service else {
            continue;
        };
        let discovery = Url::parse(&service.auth.discovery_url).expect("a URL");
        assert_eq!(
            discovery.path(),
            format!("{}/.well-known/openid-configuration", issuer.path())
        );
    }
}

#[test]
fn data_lives_in_named_volumes_and_bind_mounts_are_read_only_files_of_the_repository() {
    let mut used = BTreeSet::new();
    for (name, container) in &project().services {
        for mount in &container.volumes {
            match mount.kind.as_str() {
                "volume" => {
                    assert!(
                        project().volumes.contains_key(&mount.source),
                        "{name}: {}",
                        mount.source
                    );
                    used.insert(mount.source.clone());
                }
                "bind" => {
                    assert!(mount.read_only, "{name}: {} is read-only", mount.source);
                    let path = mount
                        .source
                        .strip_prefix("./")
                        .expect("a path of the repository");
                    assert!(
                        repo().join(path).exists(),
                        "{name}: {} does not exist",
                        mount.source
                    );
                }
                other => panic!("{name}: a {other} mount"),
            }
        }
    }
    let declared: BTreeSet<String> = project().volumes.keys().cloned().collect();
    assert_eq!(used, declared, "every declared volume is used");
    let named = |name: &str, target: &str| {
        service(name)
            .volumes
            .iter()
            .any(|m| m.kind == "volume" && m.source != "credentials" && m.target == target)
    };
    assert!(
        named("kafka", &service("kafka").env()["KAFKA_LOG_DIRS"]),
        "Kafka's log"
    );
    assert!(named("postgres", "/var/lib/postgresql/data"));
    assert!(named("mongodb", "/data/db"));
    assert!(named("redis", "/data"));
}

// ---------------------------------------------------------------------------------------------
// The security posture (SPEC §7): TLS everywhere, a principal per client, no secret here.

#[test]
fn the_broker_has_no_plaintext_listener_and_the_clients_use_what_it_advertises() {
    let kafka = service("kafka").env();
    let protocols: BTreeMap<&str, &str> = kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        .split(',')
        .filter_map(|e| e.split_once(':'))
        .collect();
    for listener in kafka["KAFKA_LISTENERS"].split(',') {
        let (name, _) = listener.split_once("://").expect("NAME://host:port");
        assert_eq!(
            protocols.get(name),
            Some(&"SASL_SSL"),
            "listener {listener}"
        );
    }
    assert_eq!(kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"], "false");
    assert!(kafka["KAFKA_AUTHORIZER_CLASS_NAME"].ends_with("StandardAuthorizer"));
    let advertised: Vec<&str> = kafka["KAFKA_ADVERTISED_LISTENERS"]
        .split(',')
        .filter_map(|l| l.strip_prefix("SASL_SSL://"))
        .collect();
    let mechanisms: Vec<&str> = kafka["KAFKA_SASL_ENABLED_MECHANISMS"].split(',').collect();
    let super_users = &kafka["KAFKA_SUPER_USERS"];
    for (name, reads) in settings() {
        let security = &reads.kafka.security;
        assert!(
            security.protocol.uses_tls() && security.protocol.uses_sasl(),
            "{name}"
        );
        assert!(
            mechanisms.contains(&security.sasl_mechanism.as_str()),
            "{name}"
        );
        assert!(security.password.is_some(), "{name}: a password");
        for broker in reads.kafka.brokers.split(',') {
            assert!(
                advertised.contains(&broker),
                "{name} bootstraps from {broker}"
            );
        }
        let principal = security.username.as_deref().expect("a principal");
        let is_super = super_users
            .split(';')
            .any(|u| u == format!("User:{principal}"));
        assert_eq!(is_super, principal == OPERATOR, "{name}: super user");
    }
}

#[test]
fn every_store_serves_tls_and_every_service_verifies_it_against_its_own_ca() {
    assert_eq!(
        service("redis").flag("--port"),
        Some("0"),
        "Redis: no plaintext port"
    );
    assert!(service("redis").flag("--tls-port").is_some());
    assert_eq!(service("mongodb").flag("--tlsMode"), Some("requireTLS"));
    let postgres = service("postgres").command.as_deref().unwrap_or_default();
    assert!(postgres.iter().any(|a| a == "ssl=on"), "{postgres:?}");
    for (name, reads) in settings() {
        let (_, mount) = service(name).credentials().expect("credentials");
        let own = Path::new(&mount.target);
        let ca = reads
            .kafka
            .security
            .ca_location
            .as_deref()
            .expect("the broker's CA");
        assert!(ca.starts_with(own), "{name}: {}", ca.display());
        if let Some(store) = &reads.store {
            let ca = store
                .ca
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: TLS to {store:?}"));
            assert!(ca.starts_with(own), "{name}: {}", ca.display());
            assert_eq!(store.user, *name, "{name}: its own user of its store");
            assert!(store.password.is_some(), "{name}: a password for its store");
        }
    }
}

#[test]
fn no_secret_is_written_in_the_file() {
    for (name, container) in &project().services {
        let own = container.credentials().map(|(_, m)| m.target.as_str());
        for (variable, value) in container.env() {
            if variable.contains("PASSWORD") || variable.contains("SECRET") {
                assert!(
                    variable.ends_with("_FILE")
                        && own.is_some_and(|own| value.starts_with(&format!("{own}/"))),
                    "{name}: {variable} must be a …_FILE naming a file of its own credentials"
                );
            }
            if let Ok(url) = Url::parse(&value) {
                assert!(
                    url.password().is_none(),
                    "{name}: {variable} holds a password"
                );
            }
        }
    }
    // Nothing that looks like a generated secret (32 hex characters) anywhere in the model.
    for word in model().json.split(|c: char| !c.is_ascii_alphanumeric()) {
        assert!(
            !(word.len() >= 32 && word.chars().all(|c| c.is_ascii_hexdigit())),
            "docker-compose.yml holds what looks like a secret: {word}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docker/credentials, run here: the files the model points each container at.

/// The uid each image runs as: its files in the credentials volume are that uid's.
const IMAGE_USERS: [(&str, u32); 6] = [
    ("apache/kafka", 1000),
    ("postgres", 999),
    ("redis", 999),
    ("mongo", 999),
    ("quay.io/keycloak/keycloak", 1000),
    // The project image's USER (Dockerfile).
    ("saga-services", 10001),
];

fn image_user(container: &Service) -> u32 {
    let image = container.image.as_deref().expect("an image");
    let repository = image.rsplit_once(':').map_or(image, |(r, _)| r);
    IMAGE_USERS
        .iter()
        .find(|(r, _)| *r == repository)
        .unwrap_or_else(|| panic!("which uid does {image} run as?"))
        .1
}

/// Every `/run/saga/<dir>/…` file a container is pointed at: in its environment, command,
/// entrypoint and health check, and in the files of the repository it mounts (the scripts it
/// runs). A path built at run time (`…/scram/$p.password`) is not a file name here.
fn files_named(container: &Service) -> BTreeSet<String> {
    let mut text: Vec<String> = container.env().into_values().collect();
    text.extend(container.command.iter().flatten().cloned());
    text.extend(container.entrypoint.iter().flatten().cloned());
    text.extend(container.healthcheck.iter().flat_map(|h| h.test.clone()));
    for mount in container.volumes.iter().filter(|m| m.kind == "bind") {
        let path = repo().join(mount.source.trim_start_matches("./"));
        if path.is_file() {
            text.push(read(path));
        }
    }
    let mut paths = BTreeSet::new();
    for text in &text {
        for (at, _) in text.match_indices("/run/saga/") {
            let path: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                .collect();
            if !path.ends_with('/') && path.matches('/').count() >= 4 {
                paths.insert(path);
            }
        }
    }
    paths
}

/// Every file under `dir`, by its path relative to `dir`.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let content = std::fs::read(&path).expect("readable");
                files.insert(
                    path.strip_prefix(dir).expect("under dir").to_owned(),
                    content,
                );
            }
        }
    }
    files
}

/// `docker/credentials DIR`, run here; what it printed.
fn run_credentials(dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(repo().join("docker/credentials"))
        .arg(dir)
        .output()
        .expect("running docker/credentials");
    assert!(
        out.status.success(),
        "docker/credentials: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_credentials_service_makes_every_file_each_container_reads_for_its_uid() {
    use std::os::unix::fs::MetadataExt;
    // It gives files to other uids (chown), as the credentials container does as root.
    let euid = Command::new("id").arg("-u").output().expect("id -u");
    if String::from_utf8_lossy(&euid.stdout).trim() != "0" {
        eprintln!("skipped: docker/credentials chowns files, which needs root");
        return;
    }
    /// Removed when the test ends, passed or not: it holds a CA key and passwords.
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let scratch =
        Scratch(std::env::temp_dir().join(format!("saga-credentials-{}", std::process::id())));
    let dir = scratch.0.join("credentials");
    let first = run_credentials(&dir);
    assert!(first.contains("development only"), "{first}");
    let made = files_under(&dir);
    let second = run_credentials(&dir);
    assert!(
        second.contains("all present"),
        "a second run makes nothing: {second}"
    );
    assert_eq!(files_under(&dir), made, "a second run changes nothing");

    let secret = |path: &Path| {
        let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (meta.uid(), meta.mode() & 0o777)
    };
    for (name, container) in &project().services {
        let Some((Some(subpath), _)) = container.credentials() else {
            continue;
        };
        let uid = image_user(container);
        assert_eq!(
            secret(&dir.join(subpath)),
            (uid, 0o700),
            "{subpath}/ is {name}'s alone"
        );
        let named = files_named(container);
        assert!(!named.is_empty(), "{name} reads nothing of its credentials");
        for path in named {
            let file = dir.join(path.trim_start_matches("/run/saga/"));
            let (owner, mode) = secret(&file);
            assert_eq!(owner, uid, "{path} is {name}'s (uid {uid})");
            let public = path.ends_with(".crt") && mode == 0o644;
            assert!(
                public || mode == 0o600 || mode == 0o400,
                "{path}: mode {mode:o}"
            );
        }
    }

    // Each client's settings load from the files made for it, and its broker password is the
    // one the broker formats its log with for that principal, and no one else's.
    let mut passwords = BTreeSet::new();
    for name in clients() {
        let container = service(name);
        let (subpath, mount) = container.credentials().expect("credentials");
        let own = dir.join(subpath.expect("a directory"));
        let mut vars = Vars::new(container.env());
        for (path, content) in files_under(&own) {
            let content = String::from_utf8(content).expect("text");
            vars = vars.with_file(Path::new(&mount.target).join(path), content);
        }
        let reads = load_settings(name, &vars).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        let principal = reads
            .kafka
            .security
            .username
            .as_deref()
            .expect("a principal");
        let password = reads.kafka.security.password.as_ref().expect("a password");
        let formatted =
            std::fs::read_to_string(dir.join(format!("kafka/scram/{principal}.password")))
                .unwrap_or_else(|e| panic!("no SCRAM credential for {principal}: {e}"));
        assert_eq!(
            password.expose_secret(),
            formatted.trim_end(),
            "{principal}"
        );
        assert!(passwords.insert(formatted), "{principal} shares a password");
        let Some(store) = &reads.store else {
            continue;
        };
        let store_password = store.password.as_deref().expect("a password");
        // The server's own copy: PostgreSQL's verifier and Redis's ACL hash, never the password.
        match store.server.host.as_str() {
            "postgres" => {
                let verifier = read_made(&dir, &format!("postgres/{}.scram", store.user));
                assert!(verifier.starts_with("SCRAM-SHA-256$4096:"), "{verifier}");
                for text in files_under(&dir.join("postgres")).values() {
                    assert!(!String::from_utf8_lossy(text).contains(store_password));
                }
            }
            "redis" => {
                let acl = read_made(&dir, "redis/users.acl");
                let user = format!("user {} on #", store.user);
                assert!(acl.lines().any(|l| l.starts_with(&user)), "{acl}");
                assert!(!acl.contains(store_password));
            }
            _ => {}
        }
        // Each server's certificate chains to the CA the client trusts, for the name it uses.
        let broker = reads.kafka.brokers.split(':').next().expect("a host");
        let broker_ca = reads.kafka.security.ca_location.as_deref().expect("a CA");
        for (server, ca) in [
            (broker, broker_ca),
            (&store.server.host, store.ca.as_deref().expect("a CA")),
        ] {
            let ca = dir.join(ca.strip_prefix("/run/saga").expect("in the credentials"));
            let cert = dir.join(format!(".private/{server}.crt"));
            let verify = Command::new("openssl")
                .args(["verify", "-CAfile"])
                .args([&ca, &cert])
                .output()
                .expect("openssl verify");
            assert!(verify.status.success(), "{name}: {server}'s certificate");
            let san = Command::new("openssl")
                .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
                .arg(&cert)
                .output()
                .expect("openssl x509");
            let san = String::from_utf8_lossy(&san.stdout);
            assert!(san.contains(&format!("DNS:{server}")), "{server}: {san}");
        }
    }
    assert_eq!(
        secret(&dir.join(".private")),
        (0, 0o700),
        "the CA's key is root's alone"
    );
}

fn read_made(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path} is not made: {e}"))
}
