//! The docker compose demo, checked without a Docker engine.
//!
//! `docker-compose.yml` is parsed (YAML merge keys applied, as compose does) and checked for
//! what the demo relies on: pinned images, a health check on every container, services that
//! start only after their stores and the broker are healthy, the published ports, named
//! volumes, MongoDB as a replica set, Redis with an append-only file. Above all, the
//! environment of each service must match its binary: every variable set is one the binary
//! reads (found by scanning its sources for `env_or("NAME"`, `env::var("NAME"` and
//! `env_secret("NAME"`), and every variable this deployment needs is set. The security
//! posture is checked too (SPEC §7): no plaintext listener or client, the broker configured as
//! `scripts/stack` configures it, each service with its own Kafka principal and its own
//! credentials only, no password anywhere in the file; and `docker/credentials` runs here and
//! makes every file the containers are told to read, owned by the uid that reads it. The
//! `Dockerfile` and `docker/healthcheck` are checked too; the health check script runs here
//! against a tiny HTTP server.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

/// What each service stores its data in, in the compose deployment.
#[derive(Debug, Clone, Copy)]
enum Store {
    /// A PostgreSQL database named after the service, through `DATABASE_URL`.
    Postgres,
    /// MongoDB, through `INVENTORY_STORE_URL`.
    Mongo,
    /// Redis, through `REDIS_URL`.
    Redis,
}

/// The five services: name (crate, binary and compose service), HTTP port (SPEC §1), store.
const SERVICES: [(&str, u16, Store); 5] = [
    ("customer", 8001, Store::Postgres),
    ("orders", 8002, Store::Postgres),
    ("inventory", 8003, Store::Mongo),
    ("billing", 8004, Store::Postgres),
    ("notification", 8005, Store::Redis),
];

/// The infrastructure containers and the image (repository, major version) each must run.
const INFRA: [(&str, &str, &str); 5] = [
    ("kafka", "apache/kafka", "4"),
    ("postgres", "postgres", "16"),
    ("mongodb", "mongo", "7"),
    ("redis", "redis", "7"),
    ("keycloak", "quay.io/keycloak/keycloak", "26"),
];

/// The Kafka version `scripts/stack` runs locally (`KAFKA_VERSION=…`): compose must run the same.
fn stack_kafka_version() -> String {
    read("scripts/stack")
        .lines()
        .find_map(|l| l.strip_prefix("KAFKA_VERSION="))
        .map(|v| v.trim().to_owned())
        .expect("scripts/stack pins KAFKA_VERSION")
}

/// The Keycloak version `scripts/stack` runs locally (`KEYCLOAK_VERSION=…`).
fn stack_keycloak_version() -> String {
    read("scripts/stack")
        .lines()
        .find_map(|l| l.strip_prefix("KEYCLOAK_VERSION="))
        .map(|v| v.trim().to_owned())
        .expect("scripts/stack pins KEYCLOAK_VERSION")
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

/// `docker-compose.yml`, parsed, with `<<: *anchor` merges applied as compose applies them.
fn compose() -> Value {
    let mut doc: Value = serde_yaml_ng::from_str(&read("docker-compose.yml"))
        .expect("docker-compose.yml is valid YAML");
    doc.apply_merge()
        .expect("docker-compose.yml's merge keys resolve");
    doc
}

fn services(doc: &Value) -> &serde_yaml_ng::Mapping {
    doc.get("services")
        .and_then(Value::as_mapping)
        .expect("docker-compose.yml has a `services` mapping")
}

fn service<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc.get("services")
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("docker-compose.yml has no service `{name}`"))
}

/// A scalar as compose reads it (`HTTP_PORT: 8001` and `HTTP_PORT: "8001"` are the same).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

/// A service's `environment`, which this file writes as a mapping.
fn environment(doc: &Value, name: &str) -> BTreeMap<String, String> {
    let env = service(doc, name)
        .get("environment")
        .unwrap_or_else(|| panic!("service `{name}` has no environment"));
    let map = env
        .as_mapping()
        .unwrap_or_else(|| panic!("service `{name}`: write `environment` as a mapping"));
    map.iter().map(|(k, v)| (scalar(k), scalar(v))).collect()
}

/// A list of strings (`command:`, a health check's `test:`); a plain string is one element.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    }
}

/// One entry of a service's `volumes:`, in either of compose's forms.
#[derive(Debug, Clone, PartialEq)]
struct Mount {
    /// A named volume, or a host path (`./…`, `/…`) for a bind mount.
    source: String,
    target: String,
    /// `volume: subpath:` (long form only): the directory of the volume that is mounted.
    subpath: Option<String>,
    read_only: bool,
}

/// The mounts of a service: the short form `source:target[:ro]` and the long form (`type`,
/// `source`, `target`, `read_only`, `volume: {subpath}`).
fn mounts(svc: &Value) -> Vec<Mount> {
    svc.get("volumes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|m| match m {
            Value::Mapping(_) => Mount {
                source: m.get("source").map(scalar).unwrap_or_default(),
                target: m.get("target").map(scalar).unwrap_or_default(),
                subpath: m.get("volume").and_then(|v| v.get("subpath")).map(scalar),
                read_only: m.get("read_only").and_then(Value::as_bool) == Some(true),
            },
            other => {
                let spec = scalar(other);
                let parts: Vec<&str> = spec.split(':').collect();
                Mount {
                    source: parts.first().copied().unwrap_or_default().to_owned(),
                    target: parts.get(1).copied().unwrap_or_default().to_owned(),
                    subpath: None,
                    read_only: parts
                        .get(2)
                        .is_some_and(|o| o.split(',').any(|o| o == "ro")),
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What a binary reads from the environment.

/// The names passed as string literals to `env_or(`, `env::var(` or `env::var_os(` in `src`.
/// A name held in a variable (`env::var(name)`) is not a literal and is skipped. A secret read
/// with `env_secret("NAME"` or `env_secret_or_file("NAME"` is `NAME` and `NAME_FILE`; there
/// the name may also be a constant of `src` (`const PASSWORD_VARIABLE: &str = "NAME";`).
fn env_literals(src: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let is_name = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    for call in ["env_secret(", "env_secret_or_file("] {
        for (at, _) in src.match_indices(call) {
            let preceded_by_ident = src[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if preceded_by_ident {
                continue;
            }
            let rest = src[at + call.len()..].trim_start();
            let name = if let Some(rest) = rest.strip_prefix('"') {
                rest.split('"').next().map(str::to_owned)
            } else {
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                const_str(src, &ident)
            };
            if let Some(name) = name.filter(|n| is_name(n)) {
                names.insert(format!("{name}_FILE"));
                names.insert(name);
            }
        }
    }
    for call in ["env_or(", "env_opt(", "env::var(", "env::var_os("] {
        for (at, _) in src.match_indices(call) {
            let preceded_by_ident = src[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if preceded_by_ident {
                continue;
            }
            let rest = src[at + call.len()..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let Some(end) = rest.find('"') else {
                continue;
            };
            let name = &rest[..end];
            if is_name(name) {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// The value of `const IDENT: &str = "…";` in `src`, if there is one.
fn const_str(src: &str, ident: &str) -> Option<String> {
    if ident.is_empty() || !ident.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        return None;
    }
    let decl = format!("const {ident}: &str = \"");
    let at = src.find(&decl)? + decl.len();
    src[at..].split('"').next().map(str::to_owned)
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The store adapters of the messaging runtime: a service reads their settings only if it uses
/// them.
const STORE_MODULES: [&str; 3] = ["postgres", "mongo", "redis_store"];

/// The runtime's crates, each with its directory under `shared-events/`.
const RUNTIME_CRATES: [(&str, &str); 3] = [
    ("saga-contracts", "contracts"),
    ("saga-messaging", "messaging"),
    ("saga-kit", "kit"),
];

fn file_stem(path: &std::path::Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

fn read_all(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect()
}

/// The runtime crates `krate`'s binary links: those its `Cargo.toml` names under
/// `[dependencies]` (not `[dev-dependencies]`).
fn runtime_crates_of(krate: &str) -> Vec<&'static str> {
    let manifest = read(format!("{krate}/Cargo.toml"));
    let mut section = "";
    let mut linked = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        for (name, dir) in RUNTIME_CRATES {
            let named = line
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '.', '=']));
            if section == "[dependencies]" && named {
                linked.push(dir);
            }
        }
    }
    linked
}

/// Every environment variable the binary of `krate` reads: those named in its own `src/`, plus
/// those named in the runtime crates it links (`shared-events/<crate>/src/`). Of the runtime,
/// the test kits (`testing/`) and the `provision` binary (`bin/`) are left out, and so is each
/// store adapter (`postgres`, `mongo`, `redis_store` of the messaging runtime) the crate does
/// not use. `RUST_LOG` is read by `EnvFilter::try_from_default_env`, which names it nowhere in
/// our sources, so the scanner adds it where that call is made.
fn vars_read_by(krate: &str) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_sources(&repo().join(krate).join("src"), &mut files);
    assert!(!files.is_empty(), "{krate}/src has no Rust sources");
    let own = read_all(&files);

    let skipped = |module: &str, dir: &str| {
        let unused_store = dir == "messaging"
            && STORE_MODULES.contains(&module)
            && !own.contains(&format!("saga_messaging::{module}"));
        module == "testing" || module == "bin" || unused_store
    };
    let linked = runtime_crates_of(krate);
    assert!(
        linked.contains(&"messaging") && linked.contains(&"kit"),
        "{krate} links the messaging runtime and the service kit: {linked:?}"
    );
    let mut runtime_files = Vec::new();
    for dir in linked {
        let src = repo().join("shared-events").join(dir).join("src");
        for entry in std::fs::read_dir(&src).expect("listing a runtime crate's src") {
            let path = entry.expect("a directory entry").path();
            if skipped(&file_stem(&path), dir) {
                continue;
            }
            if path.is_dir() {
                rust_sources(&path, &mut runtime_files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                runtime_files.push(path);
            }
        }
    }
    let runtime_src = read_all(&runtime_files);

    let mut vars = env_literals(&own);
    vars.extend(env_literals(&runtime_src));
    if runtime_src.contains("from_default_env") {
        vars.insert("RUST_LOG".to_owned());
    }
    for expected in ["HTTP_PORT", "KAFKA_BROKERS", "LOG_FORMAT", "RUST_LOG"] {
        assert!(
            vars.contains(expected),
            "the scanner found no {expected} for {krate} (is the configuration still read \
             with env_or(\"NAME\", …)?): {vars:?}"
        );
    }
    vars
}

#[test]
fn the_scanner_finds_literal_names_and_skips_the_rest() {
    let src = r#"
        let a = env_or("HTTP_PORT", 8001)?;
        let b = env_or(
            "DATABASE_URL",
            "postgres://…".to_owned(),
        )?;
        let c = std::env::var("LOG_FORMAT").is_ok();
        let d = std::env::var_os("NO_COLOR");
        match std::env::var(name) {}
        pub fn env_or<T>(name: &str, default: T) {}
        let e = my_env_or("NOT_THIS", 1);
        /// `REDIS_URL` (default the local Redis).
        let f = env_secret("KAFKA_SASL_PASSWORD")?;
        pub const PASSWORD_VARIABLE: &str = "INVENTORY_STORE_PASSWORD";
        let g = env_secret(PASSWORD_VARIABLE)?;
        let h = env_secret(password_variable)?;
        pub fn env_secret(name: &str) {}
    "#;
    let found: Vec<String> = env_literals(src).into_iter().collect();
    assert_eq!(
        found,
        [
            "DATABASE_URL",
            "HTTP_PORT",
            "INVENTORY_STORE_PASSWORD",
            "INVENTORY_STORE_PASSWORD_FILE",
            "KAFKA_SASL_PASSWORD",
            "KAFKA_SASL_PASSWORD_FILE",
            "LOG_FORMAT",
            "NO_COLOR"
        ]
    );
}

#[test]
fn the_scanner_sees_what_each_service_reads() {
    let customer = vars_read_by("customer");
    for var in [
        "DATABASE_URL",
        "DATABASE_MAX_CONNECTIONS",
        "KAFKA_LINGER_MS",
        "KAFKA_IDEMPOTENCE",
    ] {
        assert!(customer.contains(var), "customer reads {var}: {customer:?}");
    }
    assert!(!customer.contains("REDIS_URL") && !customer.contains("TEST_DATABASE_URL"));
    assert!(vars_read_by("orders").contains("ORDER_TIMEOUT_SECS"));
    let inventory = vars_read_by("inventory");
    for var in [
        "INVENTORY_STORE_URL",
        "INVENTORY_STORE_PASSWORD_FILE",
        "KAFKA_SASL_PASSWORD_FILE",
        "KAFKA_SSL_CA_LOCATION",
    ] {
        assert!(
            inventory.contains(var),
            "inventory reads {var}: {inventory:?}"
        );
    }
    let notification = vars_read_by("notification");
    assert!(notification.contains("REDIS_URL"), "{notification:?}");
    assert!(
        !notification.contains("DATABASE_URL"),
        "notification uses no PostgreSQL: {notification:?}"
    );
}

#[test]
fn every_crate_with_a_binary_is_a_compose_service_and_in_the_image() {
    let doc = compose();
    let dockerfile = read("Dockerfile");
    let manifest = read("Cargo.toml");
    let expected: BTreeSet<&str> = SERVICES.iter().map(|(name, _, _)| *name).collect();
    let mut binaries = BTreeSet::new();
    for member in manifest
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix("\","))
        .filter(|m| !m.starts_with("shared-events/"))
    {
        if repo().join(member).join("src/main.rs").exists() {
            binaries.insert(member.to_owned());
        }
    }
    assert_eq!(
        binaries.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        expected,
        "the workspace's binaries and the services of this test differ"
    );
    for name in &binaries {
        assert!(
            services(&doc).contains_key(name.as_str()),
            "{name} is not a compose service"
        );
        assert!(
            dockerfile.contains(&format!("/app/target/release/{name}")),
            "the Dockerfile does not copy the {name} binary"
        );
    }
    // The operator's tools: provision (the messaging runtime's binary) runs in compose, dlq
    // (the dlq crate's) is in the image for the operator to run.
    for (tool, source) in [
        ("provision", "shared-events/messaging/src/bin/provision.rs"),
        ("dlq", "shared-events/dlq/src/main.rs"),
    ] {
        assert!(repo().join(source).exists(), "no {tool} binary at {source}");
        assert!(
            dockerfile.contains(&format!("/app/target/release/{tool} ")),
            "the Dockerfile does not copy the {tool} binary"
        );
    }
    assert_eq!(
        strings(&service(&doc, "provision")["command"]),
        ["provision"]
    );
}

// ---------------------------------------------------------------------------------------------
// The services' environment.

#[test]
fn every_variable_set_for_a_service_is_one_its_binary_reads() {
    let doc = compose();
    for (name, _, _) in SERVICES {
        let reads = vars_read_by(name);
        let set = environment(&doc, name);
        let unknown: Vec<&String> = set.keys().filter(|k| !reads.contains(*k)).collect();
        assert!(
            unknown.is_empty(),
            "compose sets {unknown:?} for {name}, which its binary never reads \
             (it reads {reads:?})"
        );
    }
}

#[test]
fn provision_runs_as_the_operator_with_settings_it_reads() {
    let doc = compose();
    let env = environment(&doc, "provision");
    // provision and dlq read the broker settings of KafkaConfig::from_env.
    let mut files = Vec::new();
    rust_sources(&repo().join("shared-events/messaging/src/bin"), &mut files);
    rust_sources(&repo().join("shared-events/dlq/src"), &mut files);
    for f in ["env.rs", "config.rs", "secret.rs", "provision.rs"] {
        files.push(repo().join("shared-events/messaging/src").join(f));
    }
    let reads = env_literals(&read_all(&files));
    for key in env.keys() {
        assert!(
            reads.contains(key),
            "provision never reads {key} (it reads {reads:?})"
        );
    }
    assert_eq!(env["KAFKA_BROKERS"], "kafka:9092");
    assert_eq!(env["KAFKA_SECURITY_PROTOCOL"], "SASL_SSL");
    assert_eq!(env["KAFKA_SASL_USERNAME"], "operator");
    assert_eq!(
        env["KAFKA_SASL_PASSWORD_FILE"],
        "/run/saga/operator/kafka.password"
    );
    assert_eq!(env["KAFKA_SSL_CA_LOCATION"], "/run/saga/operator/ca.crt");
}

#[test]
fn every_service_gets_what_this_deployment_needs() {
    let doc = compose();
    for (name, port, store) in SERVICES {
        let env = environment(&doc, name);
        let get = |key: &str| {
            env.get(key)
                .unwrap_or_else(|| panic!("{name}: {key} is not set"))
                .as_str()
        };
        assert_eq!(get("HTTP_PORT"), port.to_string(), "{name}: HTTP_PORT");
        assert_eq!(get("KAFKA_BROKERS"), "kafka:9092", "{name}: KAFKA_BROKERS");
        for tuning in [
            "KAFKA_LINGER_MS",
            "KAFKA_FETCH_WAIT_MAX_MS",
            "KAFKA_IDEMPOTENCE",
        ] {
            assert!(
                !env.contains_key(tuning),
                "{name}: {tuning} is set; compose runs the runtime's defaults, as the local stack does"
            );
        }
        assert!(env.contains_key("RUST_LOG"), "{name}: RUST_LOG is not set");
        // Tokens of the realm saga (SPEC §7): the issuer they name, the audience, and the
        // discovery document fetched inside the network.
        assert_eq!(
            get("AUTH_ISSUER"),
            "http://127.0.0.1:8080/realms/saga",
            "{name}"
        );
        assert_eq!(get("AUTH_AUDIENCE"), "saga-api", "{name}");
        assert_eq!(
            get("AUTH_DISCOVERY_URL"),
            "http://keycloak:8080/realms/saga/.well-known/openid-configuration",
            "{name}"
        );
        // Its own Kafka principal over SASL_SSL, its own password, the compose CA: all from
        // its own directory of the credentials volume.
        let own = format!("/run/saga/{name}");
        assert_eq!(get("KAFKA_SECURITY_PROTOCOL"), "SASL_SSL", "{name}");
        assert_eq!(get("KAFKA_SASL_MECHANISM"), "SCRAM-SHA-512", "{name}");
        assert_eq!(
            get("KAFKA_SASL_USERNAME"),
            name,
            "{name}: its own principal"
        );
        assert_eq!(
            get("KAFKA_SASL_PASSWORD_FILE"),
            format!("{own}/kafka.password"),
            "{name}"
        );
        assert_eq!(
            get("KAFKA_SSL_CA_LOCATION"),
            format!("{own}/ca.crt"),
            "{name}"
        );
        match store {
            Store::Postgres => {
                assert_eq!(
                    get("DATABASE_URL"),
                    format!(
                        "postgres://{name}@postgres:5432/{name}\
                         ?sslmode=verify-full&sslrootcert={own}/ca.crt"
                    ),
                    "{name}: DATABASE_URL is its own role and database over verified TLS"
                );
                assert_eq!(
                    get("DATABASE_PASSWORD_FILE"),
                    format!("{own}/postgres.password"),
                    "{name}"
                );
            }
            Store::Mongo => {
                let url = get("INVENTORY_STORE_URL");
                assert!(
                    url.starts_with("mongodb://inventory@mongodb:27017/inventory?"),
                    "{name}: INVENTORY_STORE_URL must log in as inventory: {url}"
                );
                for option in [
                    "replicaSet=rs0",
                    "tls=true",
                    &format!("tlsCAFile={own}/ca.crt"),
                    "authSource=inventory",
                ] {
                    assert!(
                        url.split(['?', '&']).any(|o| o == option),
                        "{name}: INVENTORY_STORE_URL lacks {option}: {url}"
                    );
                }
                assert_eq!(
                    get("INVENTORY_STORE_PASSWORD_FILE"),
                    format!("{own}/mongodb.password"),
                    "{name}"
                );
                assert!(
                    !env.contains_key("DATABASE_URL"),
                    "{name}: DATABASE_URL would only confuse which store is used"
                );
            }
            Store::Redis => {
                assert_eq!(
                    get("REDIS_URL"),
                    "rediss://notification@redis:6379",
                    "{name}"
                );
                assert_eq!(
                    get("REDIS_PASSWORD_FILE"),
                    format!("{own}/redis.password"),
                    "{name}"
                );
                assert_eq!(get("REDIS_CA_FILE"), format!("{own}/ca.crt"), "{name}");
            }
        }
    }
    let orders = environment(&doc, "orders");
    assert!(
        orders.contains_key("ORDER_TIMEOUT_SECS"),
        "orders: ORDER_TIMEOUT_SECS (SPEC §6) is not set"
    );
}

#[test]
fn kafka_runs_in_kraft_mode_and_advertises_the_address_the_services_use() {
    let doc = compose();
    let env = environment(&doc, "kafka");
    let roles: BTreeSet<&str> = env["KAFKA_PROCESS_ROLES"].split(',').collect();
    assert_eq!(roles, BTreeSet::from(["broker", "controller"]));
    assert!(
        env["KAFKA_ADVERTISED_LISTENERS"]
            .split(',')
            .any(|l| l == "SASL_SSL://kafka:9092"),
        "the services bootstrap from kafka:9092 over SASL_SSL, and Kafka must advertise that address"
    );
    assert!(env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
        .starts_with(&format!("{}@kafka:", env["KAFKA_NODE_ID"])));
    // KRaft storage is formatted with a cluster id: 16 bytes in base64url, 22 characters.
    let id = &env["CLUSTER_ID"];
    assert!(
        id.len() == 22
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "CLUSTER_ID must be a base64url UUID (22 characters): {id}"
    );
}

// ---------------------------------------------------------------------------------------------
// Containers: images, health checks, dependencies, ports, volumes.

/// True for a pinned version tag such as `3.9.1`, `16.9-bookworm` or `7.0.16`.
fn pinned(tag: &str) -> bool {
    let version = tag.split('-').next().unwrap_or_default();
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn infrastructure_images_are_pinned_versions() {
    let doc = compose();
    for (name, repository, major) in INFRA {
        let image = scalar(
            service(&doc, name)
                .get("image")
                .unwrap_or_else(|| panic!("{name} has no image")),
        );
        let (repo_part, tag) = image
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{name}: image {image} has no tag"));
        assert_eq!(repo_part, repository, "{name}: image");
        assert!(
            pinned(tag) && tag.starts_with(&format!("{major}.")),
            "{name}: {image} must be a pinned {repository} {major}.x tag (not latest)"
        );
    }
    assert!(pinned("16.9-bookworm") && pinned("3.9.1"));
    assert!(!pinned("latest") && !pinned("16") && !pinned("7-bookworm"));
}

#[test]
fn compose_runs_the_kafka_version_of_the_local_stack() {
    let doc = compose();
    let image = scalar(service(&doc, "kafka").get("image").expect("kafka image"));
    assert_eq!(
        image,
        format!("apache/kafka:{}", stack_kafka_version()),
        "docker-compose.yml and scripts/stack must run one Kafka version"
    );
}

#[test]
fn compose_runs_the_keycloak_version_of_the_local_stack() {
    let doc = compose();
    let image = scalar(
        service(&doc, "keycloak")
            .get("image")
            .expect("keycloak image"),
    );
    assert_eq!(
        image,
        format!("quay.io/keycloak/keycloak:{}", stack_keycloak_version()),
        "docker-compose.yml and scripts/stack must run one Keycloak version"
    );
}

/// Keycloak imports the realm file `scripts/stack` imports, says the issuer the local stack
/// says (SPEC §7) whoever asks, and takes its secrets from the credentials volume through
/// docker/keycloak/start, which hands them over in the environment.
#[test]
fn keycloak_imports_the_local_realm_with_a_fixed_issuer_and_secrets_from_files() {
    let doc = compose();
    let keycloak = service(&doc, "keycloak");
    assert_eq!(
        strings(&keycloak["entrypoint"]),
        ["bash", "/opt/saga/keycloak-start"]
    );
    let mounted = mounts(keycloak);
    for (source, target) in [
        ("./docker/keycloak/start", "/opt/saga/keycloak-start"),
        (
            "./scripts/keycloak/realm-saga.json",
            "/opt/keycloak/data/import/realm-saga.json",
        ),
    ] {
        assert!(
            mounted.contains(&Mount {
                source: source.to_owned(),
                target: target.to_owned(),
                subpath: None,
                read_only: true,
            }),
            "keycloak mounts {source} read-only on {target}: {mounted:?}"
        );
    }
    assert!(
        read("scripts/stack")
            .contains("KEYCLOAK_REALM_FILE=\"$SCRIPT_DIR/keycloak/realm-saga.json\""),
        "scripts/stack imports the same realm file"
    );
    let env = environment(&doc, "keycloak");
    assert_eq!(env["KC_HOSTNAME"], "http://127.0.0.1:8080");
    assert_eq!(env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"], "true");
    assert_eq!(
        env["KEYCLOAK_ADMIN_PASSWORD_FILE"],
        "/run/saga/keycloak/admin.password"
    );
    assert_eq!(
        env["SAGA_TOOLS_CLIENT_SECRET_FILE"],
        "/run/saga/keycloak/saga-tools.password"
    );
    let start = read("docker/keycloak/start");
    for needle in [
        "KEYCLOAK_ADMIN_PASSWORD_FILE",
        "SAGA_TOOLS_CLIENT_SECRET_FILE",
        "export KC_BOOTSTRAP_ADMIN_PASSWORD SAGA_TOOLS_CLIENT_SECRET",
        "start-dev --import-realm",
    ] {
        assert!(start.contains(needle), "docker/keycloak/start: {needle}");
    }
    // The realm's saga-tools secret is the placeholder both starters fill.
    assert!(
        read("scripts/keycloak/realm-saga.json")
            .contains("\"secret\": \"${SAGA_TOOLS_CLIENT_SECRET}\""),
        "the realm file holds a placeholder, not saga-tools's secret"
    );
    assert!(read("scripts/stack")
        .contains("SAGA_TOOLS_CLIENT_SECRET=\"$(secret keycloak-saga-tools)\""));
    // The issuer's address is the one published on the host.
    let ports = strings(&keycloak["ports"]);
    assert_eq!(ports, ["127.0.0.1:8080:8080"]);
    // The services' verifier settings, which every service merges.
    let auth = doc
        .get("x-auth-env")
        .and_then(Value::as_mapping)
        .expect("x-auth-env");
    let get = |k: &str| auth.get(k).map(scalar).unwrap_or_default();
    assert_eq!(get("AUTH_ISSUER"), "http://127.0.0.1:8080/realms/saga");
    assert_eq!(get("AUTH_AUDIENCE"), "saga-api");
    assert_eq!(
        get("AUTH_DISCOVERY_URL"),
        "http://keycloak:8080/realms/saga/.well-known/openid-configuration"
    );
}

/// The one-shot containers: they run to completion before what needs them starts
/// (`service_completed_successfully`), so they have no health check and are not restarted.
const ONE_SHOT: [&str; 2] = ["credentials", "provision"];

#[test]
fn one_shot_containers_run_once_and_their_dependents_wait_for_their_success() {
    let doc = compose();
    for name in ONE_SHOT {
        let svc = service(&doc, name);
        assert_eq!(scalar(&svc["restart"]), "no", "{name} runs once");
        assert!(
            svc.get("healthcheck").is_none(),
            "{name}: a one-shot has no health check"
        );
        assert!(svc.get("ports").is_none(), "{name} publishes nothing");
        assert_eq!(
            scalar(&svc["image"]),
            "saga-services:local",
            "{name}: the project image"
        );
        assert_eq!(scalar(&svc["build"]["context"]), ".", "{name}: built here");
    }
    assert_eq!(
        strings(&service(&doc, "credentials")["command"])[0],
        "credentials"
    );
    assert_eq!(
        scalar(&service(&doc, "credentials")["user"]),
        "0:0",
        "credentials gives each consumer's files to that consumer's uid: it runs as root"
    );
    // Everything that reads the credentials volume waits for them; the services also wait
    // for their topics and ACLs.
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        let reads_credentials = mounts(svc).iter().any(|m| m.source == "credentials");
        if name == "credentials" || !reads_credentials {
            continue;
        }
        let waits_for = |dep: &str| {
            svc.get("depends_on")
                .and_then(|d| d.get(dep))
                .and_then(|d| d.get("condition"))
                .map(scalar)
        };
        let needs_credentials_first = waits_for("credentials").as_deref()
            == Some("service_completed_successfully")
            || ["kafka", "postgres", "mongodb", "redis"]
                .iter()
                .any(|store| waits_for(store).as_deref() == Some("service_healthy"));
        assert!(
            needs_credentials_first,
            "{name} reads the credentials volume, so it must start after credentials completed \
             (directly, or through a store that waits for it)"
        );
    }
    for (name, _, _) in SERVICES {
        let condition = service(&doc, name)["depends_on"]["provision"]["condition"].clone();
        assert_eq!(
            scalar(&condition),
            "service_completed_successfully",
            "{name} must start only once provision has made its topics and ACLs"
        );
    }
    assert_eq!(
        scalar(&service(&doc, "provision")["depends_on"]["kafka"]["condition"]),
        "service_healthy"
    );
}

#[test]
fn every_container_has_a_health_check() {
    let doc = compose();
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        if ONE_SHOT.contains(&name.as_str()) {
            continue;
        }
        let check = svc
            .get("healthcheck")
            .unwrap_or_else(|| panic!("{name} has no healthcheck"));
        assert_ne!(
            check.get("disable").and_then(Value::as_bool),
            Some(true),
            "{name}"
        );
        let test = strings(
            check
                .get("test")
                .unwrap_or_else(|| panic!("{name}: healthcheck without test")),
        );
        assert!(
            test.len() >= 2 && matches!(test[0].as_str(), "CMD" | "CMD-SHELL"),
            "{name}: healthcheck test {test:?}"
        );
    }
    for (name, _, _) in SERVICES {
        let test = strings(&service(&doc, name)["healthcheck"]["test"]);
        assert_eq!(
            test,
            ["CMD", "healthcheck"],
            "{name}: GET /health via docker/healthcheck"
        );
    }
    // Each store's check logs in over TLS, as the local stack's probes do.
    let kafka = strings(&service(&doc, "kafka")["healthcheck"]["test"]).join(" ");
    assert!(
        kafka.contains("kafka-broker-api-versions.sh --bootstrap-server kafka:9092")
            && kafka.contains("--command-config /tmp/saga-kafka/health.properties"),
        "kafka: checked over SASL_SSL with the client settings docker/kafka/start writes: {kafka}"
    );
    let start = read("docker/kafka/start");
    assert!(
        start.contains("$CONF/health.properties") && start.contains("/tmp/saga-kafka"),
        "docker/kafka/start writes the health check's settings"
    );
    let postgres = strings(&service(&doc, "postgres")["healthcheck"]["test"]).join(" ");
    assert!(
        postgres.contains("psql")
            && postgres.contains("host=localhost")
            && postgres.contains("sslmode=verify-full")
            && postgres.contains("PGPASSWORD=\"$$(cat /run/saga/postgres/postgres.password)\""),
        "postgres: a login over TCP (so the init scripts have run) with TLS and a password: {postgres}"
    );
    let redis = strings(&service(&doc, "redis")["healthcheck"]["test"]).join(" ");
    assert!(
        redis.contains("redis-cli --tls --cacert /run/saga/redis/ca.crt")
            && redis.contains("--user default")
            && redis.contains("REDISCLI_AUTH=")
            && redis.contains("ping"),
        "redis: PING over TLS as a user with its password: {redis}"
    );
    let mongodb = strings(&service(&doc, "mongodb")["healthcheck"]["test"]).join(" ");
    assert!(
        mongodb.contains("tls=true&tlsCAFile=/run/saga/mongodb/ca.crt")
            && mongodb.contains(".auth('operator'"),
        "mongodb: logs in over TLS: {mongodb}"
    );
    // Keycloak: its realm's discovery document, naming the issuer.
    let keycloak = strings(&service(&doc, "keycloak")["healthcheck"]["test"]).join(" ");
    assert!(
        keycloak.contains("/dev/tcp/127.0.0.1/8080")
            && keycloak.contains("GET /realms/saga/.well-known/openid-configuration")
            && keycloak.contains("\"issuer\":\"http://127.0.0.1:8080/realms/saga\""),
        "keycloak: the realm's discovery document with the issuer: {keycloak}"
    );
}

#[test]
fn services_start_after_their_stores_the_broker_and_keycloak_are_healthy() {
    let doc = compose();
    for (name, _, store) in SERVICES {
        // provision (completed successfully) is checked with the one-shot containers.
        // Keycloak too: a service fetches its signing keys at the first request.
        let needs = match store {
            Store::Postgres => ["postgres", "kafka", "keycloak"],
            Store::Mongo => ["mongodb", "kafka", "keycloak"],
            Store::Redis => ["redis", "kafka", "keycloak"],
        };
        let depends = service(&doc, name)
            .get("depends_on")
            .and_then(Value::as_mapping)
            .unwrap_or_else(|| panic!("{name}: depends_on must be a mapping with conditions"));
        for dep in needs {
            let condition = depends
                .get(dep)
                .and_then(|d| d.get("condition"))
                .map(scalar);
            assert_eq!(
                condition.as_deref(),
                Some("service_healthy"),
                "{name} must wait for {dep} to be healthy"
            );
        }
        for (dep, _) in depends {
            let dep = scalar(dep);
            assert!(
                services(&doc).contains_key(dep.as_str()),
                "{name} depends on {dep}, which is not a service"
            );
        }
    }
}

#[test]
fn the_services_run_their_own_binary_from_the_one_image() {
    let doc = compose();
    assert!(repo().join("Dockerfile").exists());
    for (name, _, _) in SERVICES {
        let svc = service(&doc, name);
        assert_eq!(strings(&svc["command"]), [name], "{name}: command");
        assert_eq!(
            scalar(&svc["build"]["context"]),
            ".",
            "{name}: build context"
        );
        assert_eq!(scalar(&svc["build"]["dockerfile"]), "Dockerfile", "{name}");
        assert_eq!(scalar(&svc["restart"]), "unless-stopped", "{name}: restart");
    }
}

/// `[ip:]host:container[/proto]` → (host, container).
fn port_mapping(spec: &str) -> (u16, u16) {
    let spec = spec.split('/').next().unwrap_or(spec);
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    assert!(parts.len() >= 2, "port mapping {spec} names no host port");
    (
        parts[1].parse().expect("host port"),
        parts[0].parse().expect("container port"),
    )
}

#[test]
fn ports_8001_to_8005_reach_the_right_service() {
    let doc = compose();
    let mut published = BTreeMap::new();
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        for spec in svc
            .get("ports")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let (host, container) = port_mapping(&scalar(spec));
            assert!(
                published.insert(host, (name.clone(), container)).is_none(),
                "host port {host} is published twice"
            );
        }
    }
    for (name, port, _) in SERVICES {
        assert_eq!(
            published.remove(&port),
            Some((name.to_owned(), port)),
            "{port} must map to {name}'s port {port}"
        );
    }
    // Keycloak is published where the issuer says it is (SPEC §7), for browsers and the host's
    // tools.
    assert_eq!(
        published.remove(&8080),
        Some(("keycloak".to_owned(), 8080)),
        "8080 must map to keycloak's port 8080"
    );
    // The stores and the broker stay inside the compose network, so the demo does not clash
    // with a local stack (scripts/stack) on 5432, 6379 and 9092.
    assert!(
        published.is_empty(),
        "unexpected published ports: {published:?}"
    );
    assert_eq!(port_mapping("127.0.0.1:8001:8001"), (8001, 8001));
    assert_eq!(port_mapping("8002:8002/tcp"), (8002, 8002));
}

#[test]
fn infrastructure_data_lives_in_named_volumes() {
    let doc = compose();
    let declared: BTreeSet<String> = doc
        .get("volumes")
        .and_then(Value::as_mapping)
        .expect("top-level volumes")
        .keys()
        .map(scalar)
        .collect();
    let data_dirs = [
        ("kafka", "/var/lib/kafka/data"),
        ("postgres", "/var/lib/postgresql/data"),
        ("mongodb", "/data/db"),
        ("redis", "/data"),
    ];
    let mut used = BTreeSet::new();
    for (name, data_dir) in data_dirs {
        let mounts = mounts(service(&doc, name));
        let data = mounts
            .iter()
            .find(|m| m.target == data_dir)
            .unwrap_or_else(|| panic!("{name}: nothing mounted on {data_dir}"));
        assert!(
            declared.contains(&data.source) && data.subpath.is_none(),
            "{name}: {data_dir} must be a declared named volume, not {}",
            data.source
        );
    }
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        for m in mounts(svc) {
            if m.source.starts_with('.') || m.source.starts_with('/') {
                assert!(
                    m.read_only,
                    "{name}: the bind mount {} is read-only",
                    m.source
                );
                assert!(
                    repo().join(m.source.trim_start_matches("./")).exists(),
                    "{name}: {} does not exist",
                    m.source
                );
                continue;
            }
            assert!(
                declared.contains(&m.source),
                "{name}: volume {} is not declared",
                m.source
            );
            used.insert(m.source.clone());
        }
    }
    assert_eq!(used, declared, "every declared volume is used");
    assert_eq!(
        environment(&doc, "kafka")["KAFKA_LOG_DIRS"],
        "/var/lib/kafka/data",
        "Kafka must write its log to the volume"
    );
}

#[test]
fn postgres_creates_the_databases_of_the_postgres_services() {
    let doc = compose();
    let mounts = mounts(service(&doc, "postgres"));
    let init = mounts
        .iter()
        .find(|m| {
            m.target.starts_with("/docker-entrypoint-initdb.d/") && m.target.ends_with(".sql")
        })
        .expect("an init script mounted into /docker-entrypoint-initdb.d");
    let source = init.source.as_str();
    let sql = read(source.trim_start_matches("./"));
    for (name, _, store) in SERVICES {
        if matches!(store, Store::Postgres) {
            assert!(
                sql.contains(&format!("'{name}'")),
                "{source} does not create {name}"
            );
        }
    }
}

#[test]
fn postgres_has_a_role_per_service_tls_and_a_hostssl_only_pg_hba() {
    let doc = compose();
    let postgres = service(&doc, "postgres");
    let mounts = mounts(postgres);
    let roles = mounts
        .iter()
        .find(|m| m.target == "/docker-entrypoint-initdb.d/20-roles.sh")
        .expect("docker/postgres/roles.sh runs after the databases are made");
    let script = read(roles.source.trim_start_matches("./"));
    let script_roles = bash_array(&script, "ROLES");
    let stack_roles = bash_array(&read("scripts/stack"), "PG_SERVICE_ROLES");
    assert_eq!(
        script_roles.iter().collect::<BTreeSet<_>>(),
        stack_roles.iter().collect::<BTreeSet<_>>(),
        "compose makes the local stack's roles"
    );
    for (name, _, store) in SERVICES {
        if matches!(store, Store::Postgres) {
            assert!(script_roles.contains(&name.to_owned()), "no role {name}");
        }
    }
    for needed in [
        "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        "CREATE DATABASE %I OWNER %I",
        "ALTER DATABASE \"$role\" OWNER TO \"$role\"",
        "REVOKE CONNECT, TEMPORARY ON DATABASE \"$role\" FROM PUBLIC",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
    ] {
        assert!(script.contains(needed), "roles.sh: {needed}");
    }
    let command = strings(&postgres["command"]);
    for setting in [
        "ssl=on",
        "ssl_cert_file=/run/saga/postgres/server.crt",
        "ssl_key_file=/run/saga/postgres/server.key",
        "password_encryption=scram-sha-256",
        "hba_file=/etc/postgresql/saga/pg_hba.conf",
    ] {
        assert!(
            command.iter().any(|a| a == setting),
            "postgres -c {setting}: {command:?}"
        );
    }
    let hba_mount = mounts
        .iter()
        .find(|m| m.target == "/etc/postgresql/saga/pg_hba.conf")
        .expect("pg_hba.conf mounted where hba_file says");
    let rules: Vec<Vec<String>> = read(hba_mount.source.trim_start_matches("./"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rules,
        [
            vec!["local", "all", "postgres", "peer"],
            vec!["hostssl", "all", "all", "all", "scram-sha-256"],
            vec!["hostnossl", "all", "all", "all", "reject"],
        ],
        "the unix socket for the OS user postgres only, TCP only with TLS and SCRAM"
    );
    let env = environment(&doc, "postgres");
    assert!(
        !env.contains_key("POSTGRES_PASSWORD"),
        "the superuser's password is a file"
    );
    assert_eq!(
        env["POSTGRES_PASSWORD_FILE"],
        "/run/saga/postgres/postgres.password"
    );
    assert!(!env.contains_key("POSTGRES_HOST_AUTH_METHOD"));
}

/// The words of the bash array `NAME=(…)` at the start of a line of `script` (over one line
/// or several; quotes removed, `"${OTHER[@]}"` expanded from the same script).
fn bash_array(script: &str, name: &str) -> Vec<String> {
    let decl = format!("{name}=(");
    let at = script
        .match_indices(&decl)
        .map(|(at, _)| at)
        .find(|&at| script[..at].ends_with('\n') || at == 0)
        .unwrap_or_else(|| panic!("no array {name}=(…)"));
    let body = script[at + decl.len()..]
        .split(')')
        .next()
        .unwrap_or_default();
    body.split_whitespace()
        .flat_map(|w| {
            let w = w.trim_matches(['"', '\'']);
            match w.strip_prefix("${").and_then(|w| w.strip_suffix("[@]}")) {
                Some(other) => bash_array(script, other),
                None => vec![w.to_owned()],
            }
        })
        .collect()
}

#[test]
fn mongodb_is_a_replica_set_that_inventory_uses() {
    let doc = compose();
    let mongodb = service(&doc, "mongodb");
    let command = strings(&mongodb["command"]);
    let repl_set = command
        .iter()
        .position(|a| a == "--replSet")
        .map(|i| command[i + 1].as_str());
    assert_eq!(
        repl_set,
        Some("rs0"),
        "mongod must run as replica set rs0: {command:?}"
    );
    assert!(command.iter().any(|a| a == "--bind_ip_all"), "{command:?}");
    let check = strings(&mongodb["healthcheck"]["test"]).join(" ");
    assert!(
        check.contains("rs.initiate(") && check.contains("_id: 'rs0'"),
        "the health check initiates rs0: {check}"
    );
    assert!(
        check.contains("host: 'mongodb:27017'"),
        "the replica set member must be the address clients in the network resolve: {check}"
    );
    assert!(
        check.contains("isWritablePrimary"),
        "healthy only once this node is primary (transactions need one): {check}"
    );
    let url = &environment(&doc, "inventory")["INVENTORY_STORE_URL"];
    assert!(
        url.contains("replicaSet=rs0") && url.starts_with("mongodb://inventory@mongodb:27017/")
    );
}

#[test]
fn mongodb_requires_tls_and_gives_inventory_its_own_user() {
    let doc = compose();
    let mongodb = service(&doc, "mongodb");
    let command = strings(&mongodb["command"]);
    let arg = |flag: &str| {
        command
            .iter()
            .position(|a| a == flag)
            .and_then(|i| command.get(i + 1))
            .map(String::as_str)
    };
    assert_eq!(arg("--tlsMode"), Some("requireTLS"), "{command:?}");
    assert_eq!(
        arg("--tlsCertificateKeyFile"),
        Some("/run/saga/mongodb/server.pem")
    );
    assert_eq!(arg("--tlsCAFile"), Some("/run/saga/mongodb/ca.crt"));
    // Users on a replica set need a key file, which also turns authorization on.
    assert_eq!(arg("--keyFile"), Some("/run/saga/mongodb/keyfile"));
    let env = environment(&doc, "mongodb");
    assert_eq!(env["MONGO_INITDB_ROOT_USERNAME"], "operator");
    assert_eq!(
        env["MONGO_INITDB_ROOT_PASSWORD_FILE"],
        "/run/saga/mongodb/operator.password"
    );
    assert!(!env.contains_key("MONGO_INITDB_ROOT_PASSWORD"));
    let init = mounts(mongodb)
        .into_iter()
        .find(|m| m.target.starts_with("/docker-entrypoint-initdb.d/"))
        .expect("an init script that makes inventory's user");
    let js = read(init.source.trim_start_matches("./"));
    assert!(
        js.contains("user: 'inventory'")
            && js.contains("roles: [{ role: 'readWrite', db: 'inventory' }]")
            && js.contains("getSiblingDB('inventory')"),
        "inventory's user: readWrite on inventory only, defined in inventory: {js}"
    );
    assert!(js.contains("fs.readFileSync('/run/saga/mongodb/inventory.password'"));
}

#[test]
fn redis_serves_tls_only_with_its_acl_users() {
    let doc = compose();
    let command = strings(&service(&doc, "redis")["command"]);
    let arg = |flag: &str| {
        command
            .iter()
            .position(|a| a == flag)
            .and_then(|i| command.get(i + 1))
            .map(String::as_str)
    };
    assert_eq!(arg("--port"), Some("0"), "no plaintext port: {command:?}");
    assert_eq!(arg("--tls-port"), Some("6379"));
    assert_eq!(arg("--tls-cert-file"), Some("/run/saga/redis/server.crt"));
    assert_eq!(arg("--tls-key-file"), Some("/run/saga/redis/server.key"));
    assert_eq!(arg("--tls-ca-cert-file"), Some("/run/saga/redis/ca.crt"));
    assert_eq!(arg("--tls-auth-clients"), Some("no"));
    assert_eq!(arg("--aclfile"), Some("/run/saga/redis/users.acl"));
}

#[test]
fn redis_keeps_an_append_only_file() {
    let doc = compose();
    let command = strings(&service(&doc, "redis")["command"]);
    let appendonly = command
        .iter()
        .position(|a| a == "--appendonly")
        .map(|i| command[i + 1].as_str());
    assert_eq!(appendonly, Some("yes"), "{command:?}");
}

// ---------------------------------------------------------------------------------------------
// The security posture (SPEC §7): TLS everywhere, a principal per service, no secret here.

/// The directory of the credentials volume each container mounts, and the uid it reads it as
/// (the image's own user: apache/kafka's appuser, the stores' service users, the project
/// image's 10001).
const CREDENTIAL_MOUNTS: [(&str, &str, u32); 12] = [
    ("kafka", "kafka", 1000),
    ("postgres", "postgres", 999),
    ("redis", "redis", 999),
    ("mongodb", "mongodb", 999),
    // quay.io/keycloak/keycloak runs as 1000.
    ("keycloak", "keycloak", 1000),
    ("provision", "operator", 10001),
    ("customer", "customer", 10001),
    ("orders", "orders", 10001),
    ("inventory", "inventory", 10001),
    ("billing", "billing", 10001),
    ("notification", "notification", 10001),
    // The one-shot that makes them mounts the whole volume (no subpath).
    ("credentials", "", 0),
];

/// The broker's properties from its compose environment, as docker/kafka/start writes them
/// (`KAFKA_FOO_BAR` → `foo.bar`).
fn compose_broker_properties(doc: &Value) -> BTreeMap<String, String> {
    environment(doc, "kafka")
        .into_iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("KAFKA_")?.to_lowercase();
            let name = name
                .replace("___", "-")
                .replace("__", "@")
                .replace('_', ".");
            Some((name.replace('@', "_"), v))
        })
        .collect()
}

/// The properties `scripts/stack` writes for the local broker (its server.properties here-doc).
fn stack_broker_properties() -> BTreeMap<String, String> {
    let stack = read("scripts/stack");
    let start = stack
        .find("cat >\"$KAFKA_DIR/server.properties\" <<PROPS")
        .expect("scripts/stack writes server.properties");
    stack[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim() != "PROPS")
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[test]
fn the_broker_is_configured_as_the_local_stack_configures_it() {
    let doc = compose();
    let compose = compose_broker_properties(&doc);
    let stack = stack_broker_properties();
    // Addresses and paths differ by nature; the logins hold the broker's password, which
    // docker/kafka/start adds from the credentials volume.
    let local = [
        "listeners",
        "advertised.listeners",
        "controller.quorum.voters",
        "log.dirs",
        "ssl.keystore.location",
        "ssl.truststore.location",
    ];
    let secret = |k: &str| k.ends_with(".sasl.jaas.config");
    for (key, value) in &stack {
        if local.contains(&key.as_str()) || secret(key) {
            continue;
        }
        assert_eq!(
            compose.get(key),
            Some(value),
            "compose's broker sets {key} as scripts/stack does"
        );
    }
    for key in compose.keys() {
        assert!(
            stack.contains_key(key) || key == "cluster.id",
            "compose sets {key}, which the local broker does not"
        );
    }
    let start = read("docker/kafka/start");
    for key in stack.keys().filter(|k| secret(k)) {
        assert!(
            start.contains(&format!("echo \"{key}=")),
            "docker/kafka/start writes {key}"
        );
    }
    for (key, expected) in [
        ("listeners", "SASL_SSL://:9092,CONTROLLER://:9093"),
        ("advertised.listeners", "SASL_SSL://kafka:9092"),
        ("controller.quorum.voters", "1@kafka:9093"),
        ("ssl.keystore.location", "/run/saga/kafka/server.pem"),
        ("ssl.truststore.location", "/run/saga/kafka/ca.crt"),
    ] {
        assert_eq!(compose[key], expected, "{key}");
    }
    // The command runs docker/kafka/start, mounted read-only.
    let kafka = service(&doc, "kafka");
    let command = strings(&kafka["command"]);
    assert_eq!(command, ["bash", "/opt/saga/kafka-start"]);
    assert!(mounts(kafka).contains(&Mount {
        source: "./docker/kafka/start".to_owned(),
        target: "/opt/saga/kafka-start".to_owned(),
        subpath: None,
        read_only: true,
    }));
}

#[test]
fn nothing_listens_or_connects_in_plaintext() {
    let doc = compose();
    let broker = compose_broker_properties(&doc);
    let map: BTreeMap<&str, &str> = broker["listener.security.protocol.map"]
        .split(',')
        .filter_map(|e| e.split_once(':'))
        .collect();
    assert!(
        map.values().all(|p| *p == "SASL_SSL"),
        "every listener is SASL_SSL: {map:?}"
    );
    for listener in broker["listeners"].split(',') {
        let name = listener.split("://").next().unwrap_or_default();
        assert_eq!(map.get(name), Some(&"SASL_SSL"), "listener {listener}");
    }
    assert_eq!(
        broker["authorizer.class.name"],
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    );
    assert_eq!(broker["allow.everyone.if.no.acl.found"], "false");
    assert_eq!(broker["super.users"], "User:broker;User:operator");
    assert_eq!(broker["sasl.enabled.mechanisms"], "SCRAM-SHA-512");
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        let Some(env) = svc.get("environment").and_then(Value::as_mapping) else {
            continue;
        };
        for (key, value) in env {
            let (key, value) = (scalar(key), scalar(value));
            assert!(
                !value.contains("PLAINTEXT"),
                "{name}: {key}={value} is plaintext"
            );
            assert!(
                !value.starts_with("redis://"),
                "{name}: {key}={value}: rediss:// only"
            );
            if value.starts_with("postgres://") {
                assert!(
                    value.contains("sslmode=verify-full"),
                    "{name}: {key}={value}"
                );
            }
            if value.starts_with("mongodb://") {
                assert!(value.contains("tls=true"), "{name}: {key}={value}");
            }
            if key == "KAFKA_SECURITY_PROTOCOL" {
                assert_eq!(value, "SASL_SSL", "{name}");
            }
        }
    }
}

#[test]
fn no_secret_is_written_in_the_compose_file_or_the_dockerfile() {
    let doc = compose();
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        let Some(env) = svc.get("environment").and_then(Value::as_mapping) else {
            continue;
        };
        for (key, value) in env {
            let (key, value) = (scalar(key), scalar(value));
            if key.contains("PASSWORD") || key.contains("SECRET") {
                assert!(
                    key.ends_with("_FILE") && value.starts_with("/run/saga/"),
                    "{name}: {key} must be a …_FILE naming a file of the credentials volume"
                );
            }
            if let Some((_, rest)) = value.split_once("://") {
                let authority = rest.split(['/', '?']).next().unwrap_or_default();
                if let Some((userinfo, _)) = authority.rsplit_once('@') {
                    assert!(
                        !userinfo.contains(':'),
                        "{name}: {key} holds a password in its URL"
                    );
                }
            }
        }
    }
    // Nothing that looks like a generated secret (32 hex characters) anywhere in the file.
    let text = read("docker-compose.yml");
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        assert!(
            !(word.len() >= 32 && word.chars().all(|c| c.is_ascii_hexdigit())),
            "docker-compose.yml holds what looks like a secret: {word}"
        );
    }
    for instruction in instructions(&read("Dockerfile")) {
        let upper = instruction.to_uppercase();
        assert!(
            !(upper.starts_with("ENV ") || upper.starts_with("ARG "))
                || !(upper.contains("PASSWORD") || upper.contains("SECRET")),
            "a secret in the image: {instruction}"
        );
    }
}

#[test]
fn each_container_mounts_only_its_own_credentials() {
    let doc = compose();
    let declared: BTreeMap<&str, (&str, u32)> = CREDENTIAL_MOUNTS
        .iter()
        .map(|(svc, dir, uid)| (*svc, (*dir, *uid)))
        .collect();
    for (name, svc) in services(&doc) {
        let name = scalar(name);
        let credentials: Vec<Mount> = mounts(svc)
            .into_iter()
            .filter(|m| m.source == "credentials")
            .collect();
        let Some((dir, _)) = declared.get(name.as_str()) else {
            assert!(
                credentials.is_empty(),
                "{name} mounts credentials it needs none of"
            );
            continue;
        };
        assert_eq!(credentials.len(), 1, "{name}: one credentials mount");
        let mount = &credentials[0];
        if dir.is_empty() {
            assert_eq!(
                (mount.subpath.as_deref(), mount.target.as_str()),
                (None, "/credentials")
            );
            continue;
        }
        assert_eq!(
            mount.subpath.as_deref(),
            Some(*dir),
            "{name} mounts its own directory of the volume only"
        );
        assert_eq!(mount.target, format!("/run/saga/{dir}"), "{name}");
        assert!(mount.read_only, "{name}: its credentials are read-only");
        // Whatever it is told to read from /run/saga/ is in its own mount.
        for path in run_saga_paths(svc) {
            assert!(
                path.starts_with(&format!("/run/saga/{dir}/")),
                "{name} reads {path}, outside its own credentials"
            );
        }
    }
    for (name, _, _) in SERVICES {
        assert_eq!(declared[name].0, name, "{name}: a directory of its own");
    }
}

/// Every `/run/saga/…` path in a service's environment, command and health check, and in the
/// files of this repository it mounts.
fn run_saga_paths(svc: &Value) -> BTreeSet<String> {
    let mut text = String::new();
    for key in ["environment", "command"] {
        if let Some(v) = svc.get(key) {
            text.push_str(&serde_yaml_ng::to_string(v).expect("yaml"));
        }
    }
    if let Some(test) = svc.get("healthcheck").and_then(|h| h.get("test")) {
        text.push_str(&strings(test).join(" "));
    }
    for m in mounts(svc) {
        if m.source.starts_with("./") {
            text.push('\n');
            text.push_str(&read(m.source.trim_start_matches("./")));
        }
    }
    let mut paths = BTreeSet::new();
    for (at, _) in text.match_indices("/run/saga/") {
        let path: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
            .collect();
        if path.trim_end_matches('/').matches('/').count() >= 4 {
            paths.insert(path);
        }
    }
    paths
}

#[test]
fn the_principals_and_roles_are_the_local_stacks() {
    let stack = read("scripts/stack");
    let credentials = read("docker/credentials");
    let start = read("docker/kafka/start");
    let stack_principals = bash_array(&stack, "KAFKA_PRINCIPALS");
    assert_eq!(
        bash_array(&credentials, "KAFKA_PRINCIPALS"),
        stack_principals
    );
    assert_eq!(bash_array(&start, "PRINCIPALS"), stack_principals);
    for (name, _, _) in SERVICES {
        assert!(
            stack_principals.contains(&name.to_owned()),
            "no principal {name}"
        );
    }
    let roles = |s: &str, n: &str| bash_array(s, n).into_iter().collect::<BTreeSet<_>>();
    assert_eq!(
        roles(&credentials, "PG_ROLES"),
        roles(&stack, "PG_SERVICE_ROLES"),
        "a password per PostgreSQL role of the local stack"
    );
    // Notification's Redis rights: the local stack's (where it lists them), plus CLIENT
    // SETINFO, which redis:7.4 knows.
    let compose_rights = bash_array(&credentials, "REDIS_NOTIFICATION_COMMANDS");
    if stack.contains("\nREDIS_NOTIFICATION_COMMANDS=(") {
        let mut expected = bash_array(&stack, "REDIS_NOTIFICATION_COMMANDS");
        expected.push("client|setinfo".to_owned());
        let mut actual = compose_rights.clone();
        expected.sort();
        actual.sort();
        assert_eq!(
            actual, expected,
            "notification's Redis rights are the local stack's"
        );
    } else {
        assert!(!compose_rights.is_empty());
    }
}

/// `docker/credentials DIR`, run here.
fn run_credentials(dir: &Path) -> String {
    let out = Command::new("bash")
        .arg(repo().join("docker/credentials"))
        .arg(dir)
        .output()
        .expect("running docker/credentials");
    assert!(
        out.status.success(),
        "docker/credentials failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_credentials_service_makes_every_file_each_container_reads_for_its_uid() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
    let tmp = Scratch(
        std::env::temp_dir().join(format!("saga-compose-credentials-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&tmp.0);
    let dir = tmp.0.join("credentials");
    let first = run_credentials(&dir);
    assert!(
        first.contains("made CA") && first.contains("development only"),
        "{first}"
    );
    let snapshot = |d: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = Vec::new();
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).expect("read_dir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    walk(&p, out)
                } else {
                    out.push(p)
                }
            }
        }
        walk(d, &mut files);
        files
            .into_iter()
            .map(|f| (f.clone(), std::fs::read(&f).expect("read")))
            .collect()
    };
    let before = snapshot(&dir);
    let second = run_credentials(&dir);
    assert!(
        second.contains("all present"),
        "a second run makes nothing: {second}"
    );
    assert_eq!(snapshot(&dir), before, "a second run changes nothing");

    let doc = compose();
    for (name, subdir, uid) in CREDENTIAL_MOUNTS {
        if subdir.is_empty() {
            continue;
        }
        let own = dir.join(subdir);
        let meta = std::fs::metadata(&own).unwrap_or_else(|e| panic!("{subdir}: {e}"));
        assert_eq!((meta.uid(), meta.mode() & 0o777), (uid, 0o700), "{subdir}/");
        let mut paths = run_saga_paths(service(&doc, name));
        if name == "kafka" {
            // docker/kafka/start reads one SCRAM password per principal.
            for p in bash_array(&read("docker/kafka/start"), "PRINCIPALS") {
                paths.insert(format!("/run/saga/kafka/scram/{p}.password"));
            }
        }
        assert!(
            !paths.is_empty(),
            "{name} reads nothing from its credentials"
        );
        for path in paths {
            let file = dir.join(path.trim_start_matches("/run/saga/"));
            let meta = std::fs::metadata(&file)
                .unwrap_or_else(|e| panic!("{name} reads {path}, which is not made: {e}"));
            assert_eq!(meta.uid(), uid, "{path} is {name}'s (uid {uid})");
            let mode = meta.permissions().mode() & 0o777;
            if path.ends_with(".crt") && !path.ends_with("/server.key") {
                assert!(mode == 0o644 || mode == 0o600, "{path}: {mode:o}");
            } else {
                assert!(
                    mode == 0o600 || mode == 0o400,
                    "{path} is a secret: {mode:o}"
                );
            }
        }
    }
    // Each service's Kafka password is its own.
    let mut seen = BTreeSet::new();
    for (name, _, _) in SERVICES {
        let pw = std::fs::read_to_string(dir.join(name).join("kafka.password")).expect("pw");
        assert_eq!(
            pw,
            std::fs::read_to_string(dir.join(format!("kafka/scram/{name}.password")))
                .expect("scram"),
            "{name}: the broker formats its log with the password {name} holds"
        );
        assert!(seen.insert(pw), "{name} shares a password");
    }
    // The server certificates chain to the CA every client trusts, for the compose names.
    for host in ["kafka", "postgres", "redis", "mongodb"] {
        let cert = dir.join(format!(".private/{host}.crt"));
        let verify = Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(dir.join("customer/ca.crt"))
            .arg(&cert)
            .output()
            .expect("openssl verify");
        assert!(
            verify.status.success(),
            "{host}: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
        let text = Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(&cert)
            .output()
            .expect("openssl x509");
        let san = String::from_utf8_lossy(&text.stdout);
        assert!(san.contains(&format!("DNS:{host}")), "{host}: {san}");
    }
    let ca = std::fs::read_to_string(dir.join(".private/ca.crt")).expect("ca");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(dir.join(".private/ca.crt"))
        .output()
        .expect("subject");
    assert!(
        String::from_utf8_lossy(&subject.stdout).contains("development only"),
        "{ca}"
    );
    let private = std::fs::metadata(dir.join(".private")).expect(".private");
    assert_eq!((private.uid(), private.mode() & 0o777), (0, 0o700));
    // PostgreSQL gets the verifiers of the services' roles, not their passwords.
    for (name, _, store) in SERVICES {
        if !matches!(store, Store::Postgres) {
            continue;
        }
        let pw = std::fs::read_to_string(dir.join(name).join("postgres.password")).expect("pw");
        let verifier =
            std::fs::read_to_string(dir.join(format!("postgres/{name}.scram"))).expect("scram");
        assert!(
            verifier.starts_with("SCRAM-SHA-256$4096:") && !verifier.contains(pw.trim()),
            "postgres/{name}.scram is a verifier: {verifier}"
        );
        for entry in std::fs::read_dir(dir.join("postgres")).expect("postgres/") {
            let file = entry.expect("entry").path();
            let text = std::fs::read(&file).expect("read");
            assert!(
                !String::from_utf8_lossy(&text).contains(pw.trim()),
                "{} holds {name}'s password",
                file.display()
            );
        }
    }
    // Redis holds hashes, not passwords, in its ACL file.
    let acl = std::fs::read_to_string(dir.join("redis/users.acl")).expect("acl");
    let notification =
        std::fs::read_to_string(dir.join("notification/redis.password")).expect("pw");
    assert!(!acl.contains(notification.trim()));
    assert!(acl.lines().any(|l| l.starts_with("user notification on #")
        && l.contains("resetchannels ~notification:* -@all ")));
    let key = std::fs::metadata(dir.join("mongodb/keyfile")).expect("keyfile");
    assert_eq!(
        (key.uid(), key.mode() & 0o777),
        (999, 0o400),
        "mongod's key file"
    );
    drop(tmp);
}

/// The Go toolchain: `go` on PATH, or where its installer puts it.
fn go_command() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("go"))
            .find(|g| g.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/local/go/bin/go")).filter(|g| g.is_file()))
}

/// compose-go, the parser of Docker Compose itself, loads the file without an error: the
/// compose schema (`volume: subpath`, `depends_on` conditions, …), merges, interpolation,
/// references to services and volumes (tests/compose-check). Skipped without Go.
#[test]
fn compose_go_loads_the_file() {
    let Some(go) = go_command() else {
        eprintln!("skipped: no Go toolchain to run tests/compose-check (compose-go)");
        return;
    };
    let out = Command::new(go)
        .current_dir(repo().join("tests/compose-check"))
        .args(["run", ".", "../../docker-compose.yml"])
        .env("GOFLAGS", "-mod=readonly")
        .output()
        .expect("go run ./tests/compose-check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "compose-go rejects docker-compose.yml: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is valid: 12 services"), "{stdout}");
    for (name, _, _) in SERVICES {
        assert!(
            stdout.contains(&format!(
                "{name}: credentials subpath \"{name}\" on /run/saga/{name} (read-only true)"
            )),
            "compose-go resolves {name}'s own credentials mount: {stdout}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile.

/// Dockerfile instructions with continuation lines joined and comments dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

#[test]
fn the_dockerfile_caches_dependencies_and_runs_as_a_non_root_user() {
    let all = instructions(&read("Dockerfile"));
    let froms: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, i)| i.starts_with("FROM "))
        .map(|(n, _)| n)
        .collect();
    assert!(
        froms.len() >= 4,
        "multi-stage: chef, planner, cacher, builder, runtime"
    );
    for &n in &froms {
        let image = all[n].split_whitespace().nth(1).unwrap_or_default();
        if let Some((_, tag)) = image.split_once(':') {
            assert!(tag != "latest", "{}", all[n]);
        }
    }
    assert!(
        all[froms[0]].starts_with("FROM rust:")
            && pinned(all[froms[0]].split([':', ' ']).nth(2).unwrap_or_default()),
        "the toolchain image is a pinned rust version: {}",
        all[froms[0]]
    );

    let position = |needle: &str| {
        all.iter()
            .position(|i| i.contains(needle))
            .unwrap_or_else(|| panic!("the Dockerfile has no `{needle}`"))
    };
    let install = &all[position("cargo install cargo-chef")];
    assert!(
        install.contains("--version ") && install.contains("--locked"),
        "cargo-chef is pinned: {install}"
    );
    let prepare = position("cargo chef prepare");
    let cook = position("cargo chef cook --release");
    let build = position("cargo build --release");
    assert!(all[build].contains("--bins"), "{}", all[build]);
    let copy_sources = all
        .iter()
        .enumerate()
        .filter(|(_, i)| i.as_str() == "COPY . .")
        .map(|(n, _)| n)
        .collect::<Vec<_>>();
    assert!(
        prepare < cook
            && copy_sources.iter().any(|&c| c > cook && c < build)
            && !copy_sources.iter().any(|&c| c > prepare && c < cook),
        "the dependencies are cooked from the recipe alone, before the sources are copied"
    );

    let last = *froms.last().expect("a FROM");
    let runtime = &all[last..];
    assert!(
        runtime[0].starts_with("FROM debian:bookworm-slim"),
        "runtime image: {}",
        runtime[0]
    );
    let user = runtime
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("the runtime stage sets a USER");
    let user = user.split(':').next().unwrap_or_default().trim();
    assert!(
        !user.is_empty() && user != "root" && user != "0",
        "the services must not run as root: USER {user}"
    );
    let copies: String = runtime
        .iter()
        .filter(|i| i.starts_with("COPY --from=builder"))
        .cloned()
        .collect();
    for (name, _, _) in SERVICES {
        assert!(
            copies.contains(&format!("/app/target/release/{name} ")),
            "the runtime stage does not copy {name}"
        );
    }
    assert!(
        runtime.iter().any(|i| i.starts_with("COPY")
            && i.contains("docker/healthcheck /usr/local/bin/healthcheck")),
        "the runtime stage installs docker/healthcheck as `healthcheck`"
    );
    for tool in ["provision", "dlq"] {
        assert!(
            copies.contains(&format!("/app/target/release/{tool} ")),
            "the runtime stage does not copy {tool}"
        );
    }
    assert!(
        runtime.iter().any(|i| i.starts_with("COPY")
            && i.contains("docker/credentials /usr/local/bin/credentials")),
        "the runtime stage installs docker/credentials as `credentials`"
    );
    // librdkafka is built with TLS and SASL against the system OpenSSL (rdkafka's `ssl`).
    let chef = &all[froms[0]..froms[1]];
    assert!(
        chef.iter()
            .any(|i| i.contains("apt-get install") && i.contains(" libssl-dev")),
        "the build stage installs libssl-dev"
    );
    let runtime_install = runtime
        .iter()
        .find(|i| i.contains("apt-get install"))
        .expect("the runtime stage installs packages");
    for package in [" libssl3", " openssl", " zlib1g", " ca-certificates"] {
        assert!(
            runtime_install.contains(package),
            "runtime: {package}: {runtime_install}"
        );
    }
}

#[test]
fn the_docker_context_leaves_out_build_output_and_local_state() {
    let patterns: BTreeSet<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect();
    for excluded in ["target", ".stack", ".git"] {
        assert!(
            patterns.contains(excluded),
            ".dockerignore must exclude {excluded}"
        );
    }
    let mut needed = vec![
        "Cargo.toml",
        "Cargo.lock",
        "docker",
        "shared-events",
        "tests",
    ];
    needed.extend(SERVICES.iter().map(|(name, _, _)| *name));
    for path in needed {
        assert!(
            !patterns.contains(path),
            ".dockerignore excludes {path}, which the build needs"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docker/healthcheck, run here.

/// Serves one request with `status_line`; returns the port and the request line it got.
fn one_shot_server(status_line: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).expect("header");
            if header.trim().is_empty() {
                break;
            }
        }
        let mut stream = stream;
        write!(
            stream,
            "{status_line}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
        )
        .expect("respond");
        request_line.trim_end().to_owned()
    });
    (port, handle)
}

fn healthcheck(args: &[&str], http_port: Option<u16>) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("docker/healthcheck")).args(args);
    cmd.env_remove("HTTP_PORT");
    if let Some(port) = http_port {
        cmd.env("HTTP_PORT", port.to_string());
    }
    cmd.output().expect("running docker/healthcheck")
}

#[test]
fn the_health_check_script_passes_on_200_only() {
    let (port, server) = one_shot_server("HTTP/1.1 200 OK");
    let out = healthcheck(&[&port.to_string()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.join().expect("server"), "GET /health HTTP/1.1");

    // The port comes from HTTP_PORT when not given, as in the containers.
    let (port, server) = one_shot_server("HTTP/1.1 200 OK");
    let out = healthcheck(&[], Some(port));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.join().expect("server");

    let (port, server) = one_shot_server("HTTP/1.1 503 Service Unavailable");
    let out = healthcheck(&[&port.to_string(), "/ready"], None);
    assert!(!out.status.success(), "a 503 is unhealthy");
    assert_eq!(server.join().expect("server"), "GET /ready HTTP/1.1");

    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = healthcheck(&[&closed.to_string()], None);
    assert!(!out.status.success(), "nothing listening is unhealthy");

    let out = healthcheck(&[], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no port at all is a usage error"
    );
}

#[test]
fn the_demo_and_health_check_scripts_are_valid_bash() {
    for script in [
        "scripts/demo",
        "docker/healthcheck",
        "docker/credentials",
        "docker/kafka/start",
        "docker/keycloak/start",
        "docker/postgres/roles.sh",
    ] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(repo().join(script))
            .output()
            .expect("bash -n");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
