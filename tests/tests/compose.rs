//! The docker compose demo, checked without a Docker engine.
//!
//! `docker-compose.yml` is parsed (YAML merge keys applied, as compose does) and checked for
//! what the demo relies on: pinned images, a health check on every container, services that
//! start only after their stores and the broker are healthy, the published ports, named
//! volumes, MongoDB as a replica set, Redis with an append-only file. Above all, the
//! environment of each service must match its binary: every variable set is one the binary
//! reads (found by scanning its sources for `env_or("NAME"` and `env::var("NAME"`), and every
//! variable this deployment needs is set. The `Dockerfile` and `docker/healthcheck` are
//! checked too; the health check script runs here against a tiny HTTP server.

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
const INFRA: [(&str, &str, &str); 4] = [
    ("kafka", "apache/kafka", "4"),
    ("postgres", "postgres", "16"),
    ("mongodb", "mongo", "7"),
    ("redis", "redis", "7"),
];

/// The Kafka version `scripts/stack` runs locally (`KAFKA_VERSION=…`): compose must run the same.
fn stack_kafka_version() -> String {
    read("scripts/stack")
        .lines()
        .find_map(|l| l.strip_prefix("KAFKA_VERSION="))
        .map(|v| v.trim().to_owned())
        .expect("scripts/stack pins KAFKA_VERSION")
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

// ---------------------------------------------------------------------------------------------
// What a binary reads from the environment.

/// The names passed as string literals to `env_or(`, `env::var(` or `env::var_os(` in `src`.
/// A name held in a variable (`env::var(name)`) is not a literal and is skipped.
fn env_literals(src: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
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
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                names.insert(name.to_owned());
            }
        }
    }
    names
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

/// The store adapters of `shared-events`: a service reads their settings only if it uses them.
const STORE_MODULES: [&str; 3] = ["postgres", "mongo", "redis_store"];

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

/// Every environment variable the binary of `krate` reads: those named in its own `src/`, plus
/// those named in the runtime it links, `shared-events/src/`. Of the runtime, the test kit
/// (`kit/testing`) is left out, and so is each store adapter (`messaging/postgres`, `mongo`,
/// `redis_store`) the crate does not use. `RUST_LOG` is read by
/// `EnvFilter::try_from_default_env`, which names it nowhere in our sources, so the scanner
/// adds it where that call is made.
fn vars_read_by(krate: &str) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_sources(&repo().join(krate).join("src"), &mut files);
    assert!(!files.is_empty(), "{krate}/src has no Rust sources");
    let own = read_all(&files);

    // The runtime's modules sit in three groups (`contracts/`, `messaging/`, `kit/`); the
    // store adapters are in `messaging/`, the test kit is `kit/testing`.
    let runtime = repo().join("shared-events/src");
    let skipped = |module: &str, group: &str| {
        let unused_store = group == "messaging"
            && STORE_MODULES.contains(&module)
            && !own.contains(&format!("shared_events::messaging::{module}"));
        (group == "kit" && module == "testing") || unused_store
    };
    let mut runtime_files = Vec::new();
    for group in std::fs::read_dir(&runtime).expect("listing shared-events/src") {
        let group = group.expect("a directory entry").path();
        if !group.is_dir() {
            if group.extension().is_some_and(|e| e == "rs") {
                runtime_files.push(group);
            }
            continue;
        }
        let group_name = file_stem(&group);
        for entry in std::fs::read_dir(&group).expect("listing a module group") {
            let path = entry.expect("a directory entry").path();
            if skipped(&file_stem(&path), &group_name) {
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
    "#;
    let found: Vec<String> = env_literals(src).into_iter().collect();
    assert_eq!(
        found,
        ["DATABASE_URL", "HTTP_PORT", "LOG_FORMAT", "NO_COLOR"]
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
    assert!(vars_read_by("inventory").contains("INVENTORY_STORE_URL"));
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
        match store {
            Store::Postgres => assert_eq!(
                get("DATABASE_URL"),
                format!("postgres://postgres:postgres@postgres:5432/{name}"),
                "{name}: DATABASE_URL"
            ),
            Store::Mongo => {
                let url = get("INVENTORY_STORE_URL");
                assert!(
                    url.starts_with("mongodb://mongodb:27017/inventory?")
                        && url.contains("replicaSet=rs0"),
                    "{name}: INVENTORY_STORE_URL must name the rs0 replica set: {url}"
                );
                assert!(
                    !env.contains_key("DATABASE_URL"),
                    "{name}: DATABASE_URL would only confuse which store is used"
                );
            }
            Store::Redis => assert_eq!(get("REDIS_URL"), "redis://redis:6379", "{name}"),
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
            .any(|l| l == "PLAINTEXT://kafka:9092"),
        "the services bootstrap from kafka:9092, and Kafka must advertise that address"
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
fn every_container_has_a_health_check() {
    let doc = compose();
    for (name, svc) in services(&doc) {
        let name = scalar(name);
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
    let kafka = strings(&service(&doc, "kafka")["healthcheck"]["test"]).join(" ");
    assert!(kafka.contains("kafka-broker-api-versions.sh --bootstrap-server localhost:9092"));
    let postgres = strings(&service(&doc, "postgres")["healthcheck"]["test"]).join(" ");
    assert!(
        postgres.contains("pg_isready") && postgres.contains("127.0.0.1"),
        "postgres: check over TCP, so the init scripts have run: {postgres}"
    );
    let redis = strings(&service(&doc, "redis")["healthcheck"]["test"]).join(" ");
    assert!(redis.contains("redis-cli ping"), "{redis}");
}

#[test]
fn services_start_after_their_stores_and_the_broker_are_healthy() {
    let doc = compose();
    for (name, _, store) in SERVICES {
        let needs = match store {
            Store::Postgres => ["postgres", "kafka"],
            Store::Mongo => ["mongodb", "kafka"],
            Store::Redis => ["redis", "kafka"],
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
        let mounts: Vec<(String, String)> = service(&doc, name)
            .get("volumes")
            .and_then(Value::as_sequence)
            .unwrap_or_else(|| panic!("{name} has no volumes"))
            .iter()
            .map(scalar)
            .map(|m| {
                let mut parts = m.split(':');
                (
                    parts.next().unwrap_or_default().to_owned(),
                    parts.next().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let data = mounts
            .iter()
            .find(|(_, target)| target == data_dir)
            .unwrap_or_else(|| panic!("{name}: nothing mounted on {data_dir}"));
        assert!(
            declared.contains(&data.0),
            "{name}: {data_dir} must be a declared named volume, not {}",
            data.0
        );
        for (source, _) in &mounts {
            if !source.starts_with('.') && !source.starts_with('/') {
                assert!(
                    declared.contains(source),
                    "{name}: volume {source} is not declared"
                );
                used.insert(source.clone());
            }
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
    let mounts: Vec<String> = service(&doc, "postgres")["volumes"]
        .as_sequence()
        .expect("postgres volumes")
        .iter()
        .map(scalar)
        .collect();
    let init = mounts
        .iter()
        .find(|m| m.contains(":/docker-entrypoint-initdb.d/"))
        .expect("an init script mounted into /docker-entrypoint-initdb.d");
    let source = init.split(':').next().unwrap_or_default();
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
    assert!(url.contains("replicaSet=rs0") && url.starts_with("mongodb://mongodb:27017/"));
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
    for script in ["scripts/demo", "docker/healthcheck"] {
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
