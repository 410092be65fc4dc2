//! Runs the five services as real OS processes against the local stack, one isolated system per
//! test: fresh PostgreSQL databases (or, for inventory, a fresh MongoDB database when the test
//! asks for one), a fresh Kafka topic namespace (which also namespaces the consumer groups), a
//! fresh Redis key prefix, free ports. Each service logs to
//! `target/e2e-logs/<run-id>/<service>.log`; when a test fails, the tails are printed.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use saga_messaging::KafkaConfig;
use saga_tests::free_port;
pub use saga_tests::service::Service;
use tokio::sync::{Mutex as AsyncMutex, MutexGuard};
use uuid::Uuid;

use saga_tests::actions::Actor;
use saga_tests::checker::{self, Ledger, World};
use saga_tests::client::Api;

/// The e2e tests share one broker, one PostgreSQL and a 2-core machine: they run one at a time.
static SERIAL: AsyncMutex<()> = AsyncMutex::const_new(());

/// A test's turn to run: held from before its own servers start until its system is dropped,
/// so that starting them (three JVMs, say) does not load another test's run.
pub struct Turn(MutexGuard<'static, ()>);

/// Waits for this test's turn.
pub async fn turn() -> Turn {
    Turn(SERIAL.lock().await)
}

/// Per-test settings of the system.
#[derive(Debug, Clone)]
pub struct Options {
    /// `ORDER_TIMEOUT_SECS` of the orders service.
    pub order_timeout_secs: f64,
    /// `KAFKA_BROKERS`, when not the shared local broker (scenarios 8 and 14 run their own).
    pub brokers: Option<String>,
    /// The superuser URL of the PostgreSQL server inventory's and billing's databases are
    /// made on, when not the shared one (scenario 12 stops it). Customer and orders stay on
    /// the shared server, so orders are still placed, and time out, during its outage.
    pub stores_postgres: Option<String>,
    /// Notification's `REDIS_URL`, when not the shared Redis (scenario 13 stops it).
    pub redis_url: Option<String>,
    /// More variables for every service (scenario 16 sets the topics' replication).
    pub env: Vec<(String, String)>,
    /// One service run inside a network namespace of the test's own (scenarios 17 and 18).
    pub namespaced: Option<Namespaced>,
    /// The MongoDB server (a replica set's URL, any database in it ignored) inventory keeps
    /// its data on, in a fresh database `t_<uuid>`, instead of PostgreSQL: [`shared_mongodb`]
    /// for the stack's, or one of the test's own (the `m…` scenarios).
    pub inventory_mongodb: Option<String>,
}

/// The stack's MongoDB-protocol server: `MONGODB_URL` (as for the crates' own MongoDB
/// tests), or SecantusDB on 127.0.0.1:27017 as `scripts/stack up` runs it.
pub fn shared_mongodb() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| saga_tests::mongodb::stack_server())
}

/// A service run in a network namespace (`ip netns exec`): it listens on its address there,
/// and reaches its stores at the addresses `rewrite` puts in its environment.
#[derive(Debug, Clone)]
pub struct Namespaced {
    pub service: Service,
    /// The namespace's name.
    pub netns: String,
    /// The service's address in the namespace: its `HTTP_HOST`, where the tests reach it.
    pub address: String,
    /// `(from, to)`: every `from` in the values of its environment becomes `to` (a store's
    /// `127.0.0.1:<port>` becomes an address reachable from the namespace).
    pub rewrite: Vec<(String, String)>,
    /// Its `AUTH_DISCOVERY_URL`: the identity provider's discovery document at an address
    /// reachable from the namespace (the tokens' issuer stays the stack's).
    pub discovery_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            order_timeout_secs: 30.0,
            brokers: None,
            stores_postgres: None,
            redis_url: None,
            env: Vec::new(),
            namespaced: None,
            inventory_mongodb: None,
        }
    }
}

pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_owned()
}

/// `target/<profile>`, the directory of the test executable's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test executable lives in target/<profile>/deps")
        .to_owned()
}

/// Builds the five service binaries once per test process (so they are never stale), and
/// returns the directory they are in.
fn binaries() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = profile_dir();
            if std::env::var("E2E_SKIP_BUILD").is_ok_and(|v| v == "1") {
                return Ok(dir);
            }
            let started = Instant::now();
            let mut cmd = Command::new(env!("CARGO"));
            cmd.current_dir(workspace_dir()).args(["build", "--bins"]);
            if !cfg!(debug_assertions) {
                cmd.arg("--release");
            }
            for s in Service::ALL {
                cmd.args(["-p", s.name()]);
            }
            let out = cmd
                .output()
                .map_err(|e| format!("running cargo build: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "cargo build of the services failed:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            eprintln!(
                "e2e: service binaries up to date in {:.1}s ({})",
                started.elapsed().as_secs_f64(),
                dir.display()
            );
            Ok(dir)
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// SIGTERM, then wait for a graceful exit (SIGKILL after 30 s).
fn stop_child(name: &str, mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                eprintln!("e2e: {name} did not stop within 30 s of SIGTERM; killing it");
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

/// One running instance of a service: instance 0 is the one [`System::api`] talks to; scenario
/// 15 adds a second of each.
type Instance = (Service, usize);

struct Proc {
    service: Service,
    port: u16,
    env: Vec<(String, String)>,
    log_path: PathBuf,
    child: Option<Child>,
    /// The network namespace it runs in, if not the host's.
    netns: Option<String>,
}

impl Proc {
    fn spawn(&mut self, bin_dir: &Path) {
        assert!(
            self.child.is_none(),
            "{} is already running",
            self.service.name()
        );
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("opening a service log");
        let _ = writeln!(
            log,
            "=== e2e: starting {} on port {} at {}",
            self.service.name(),
            self.port,
            chrono::Utc::now().to_rfc3339()
        );
        let bin = bin_dir.join(self.service.name());
        // `ip netns exec` execs the binary, so the child's pid is the service's.
        let mut cmd = match &self.netns {
            Some(netns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", netns]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        for var in [
            "DATABASE_URL",
            "DATABASE_PASSWORD",
            "DATABASE_PASSWORD_FILE",
            "INVENTORY_STORE_URL",
            "REDIS_KEY_PREFIX",
            "ORDER_TIMEOUT_SECS",
            "HTTP_PORT",
            "HTTP_HOST",
            "LOG_FORMAT",
            "REDIS_URL",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning a log handle"))
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.service.name()));
        self.child = Some(child);
    }

    /// `kill -9`.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the process exited (it should not have), with its status.
    fn exited(&mut self) -> Option<String> {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(status))) => Some(status.to_string()),
            _ => None,
        }
    }
}

/// One isolated system of five services. Dropping it kills them; if the test is failing, the
/// tail of each service's log is printed first.
pub struct System {
    pub run_id: String,
    pub log_dir: PathBuf,
    pub kafka: KafkaConfig,
    pub api: Api,
    pub ledger: Arc<Ledger>,
    pub order_timeout: Duration,
    /// Inventory's store: `postgres` or `mongodb`, the name of its check in `/ready`.
    pub inventory_store: &'static str,
    bin_dir: PathBuf,
    procs: Mutex<BTreeMap<Instance, Proc>>,
    _serial: MutexGuard<'static, ()>,
}

impl System {
    /// Starts the five services with the default options.
    pub async fn start() -> System {
        System::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> System {
        System::start_in(turn().await, options).await
    }

    /// [`start_with`](Self::start_with) in a turn the test took earlier.
    pub async fn start_in(turn: Turn, options: Options) -> System {
        let serial = turn.0;
        let bin_dir = tokio::task::spawn_blocking(binaries)
            .await
            .expect("building the services");
        let run_id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S"),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let log_dir = profile_dir()
            .parent()
            .expect("target dir")
            .join("e2e-logs")
            .join(&run_id);
        std::fs::create_dir_all(&log_dir).expect("creating the log directory");

        let mut kafka = saga_messaging::testing::isolated_kafka();
        if let Some(brokers) = &options.brokers {
            kafka.brokers = brokers.clone();
        }
        // Topics are made with the scenario's settings (a cluster's replication), as the
        // operator would be given them.
        for (name, value) in &options.env {
            match name.as_str() {
                "KAFKA_REPLICATION_FACTOR" => {
                    kafka.replication_factor = value.parse().expect("KAFKA_REPLICATION_FACTOR")
                }
                "KAFKA_MIN_INSYNC_REPLICAS" => {
                    kafka.min_insync_replicas =
                        Some(value.parse().expect("KAFKA_MIN_INSYNC_REPLICAS"))
                }
                "KAFKA_PARTITIONS" => kafka.partitions = value.parse().expect("KAFKA_PARTITIONS"),
                _ => {}
            }
        }
        // The operator's step, as scripts/start takes it: the namespace's topics and each
        // service's ACLs. The services then run as their own principals (their names, the
        // local stack's passwords: no variable needed).
        saga_messaging::provision::provision(&kafka, &saga_contracts::services::SERVICES)
            .await
            .expect("provisioning the scenario's namespace");
        let common = vec![
            ("KAFKA_BROKERS".to_owned(), kafka.brokers.clone()),
            ("KAFKA_TOPIC_PREFIX".to_owned(), kafka.topic_prefix.clone()),
            ("HTTP_HOST".to_owned(), "127.0.0.1".to_owned()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
            (
                "RUST_LOG".to_owned(),
                std::env::var("E2E_RUST_LOG")
                    .unwrap_or_else(|_| "info,sqlx=warn,rdkafka=warn".to_owned()),
            ),
        ]
        .into_iter()
        .chain(options.env.iter().cloned())
        .collect::<Vec<_>>();
        let mut procs = BTreeMap::new();
        let mut ports = BTreeMap::new();
        for service in Service::ALL {
            let port = free_port();
            ports.insert(service, port);
            let mut env = common.clone();
            env.push(("HTTP_PORT".into(), port.to_string()));
            // Each service's database is owned by its own role, which it logs in as.
            let role = service.name();
            let stores_db = || async {
                match &options.stores_postgres {
                    Some(admin) => {
                        saga_messaging::testing::fresh_database_url_on(admin, role).await
                    }
                    None => saga_messaging::testing::fresh_database_url(role).await,
                }
            };
            match service {
                Service::Customer => {
                    env.push((
                        "DATABASE_URL".into(),
                        saga_messaging::testing::fresh_database_url(role).await,
                    ));
                }
                Service::Billing => {
                    env.push(("DATABASE_URL".into(), stores_db().await));
                }
                Service::Orders => {
                    env.push((
                        "DATABASE_URL".into(),
                        saga_messaging::testing::fresh_database_url(role).await,
                    ));
                    env.push((
                        "ORDER_TIMEOUT_SECS".into(),
                        options.order_timeout_secs.to_string(),
                    ));
                }
                Service::Inventory => {
                    let url = match &options.inventory_mongodb {
                        Some(server) => {
                            // A database of the test's own, and a user of inventory's in it with
                            // rights on it alone (as compose's inventory has on `inventory`).
                            let db = saga_tests::mongodb::fresh_database_name();
                            saga_tests::mongodb::create_service_user(server, &db).await;
                            env.push((
                                "INVENTORY_STORE_PASSWORD_FILE".into(),
                                saga_messaging::secret::LocalStack::default()
                                    .password_file("mongodb-inventory")
                                    .display()
                                    .to_string(),
                            ));
                            saga_tests::mongodb::service_url(server, &db, "inventory")
                                .unwrap_or_else(|e| panic!("inventory's MongoDB: {e}"))
                        }
                        None => stores_db().await,
                    };
                    env.push(("INVENTORY_STORE_URL".into(), url));
                }
                Service::Notification => {
                    // Under `notification:`, the keys its ACL user may touch.
                    env.push((
                        "REDIS_KEY_PREFIX".into(),
                        format!("notification:e2e:{run_id}:"),
                    ));
                    // A scenario's own Redis, else the test's REDIS_URL (else the default:
                    // the local stack's, over TLS, as notification).
                    let url = options
                        .redis_url
                        .clone()
                        .or_else(|| std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()));
                    if let Some(url) = url {
                        env.push(("REDIS_URL".into(), url));
                    }
                }
            }
            let namespaced = options.namespaced.as_ref().filter(|n| n.service == service);
            if let Some(n) = namespaced {
                for (name, value) in &mut env {
                    if name == "HTTP_HOST" {
                        value.clone_from(&n.address);
                    }
                    for (from, to) in &n.rewrite {
                        *value = value.replace(from, to);
                    }
                }
                env.push(("AUTH_DISCOVERY_URL".into(), n.discovery_url.clone()));
                // Reached through a relay, the server is no longer on loopback, where a
                // service finds its role's password in the local stack: it is given here.
                if service != Service::Notification {
                    let file = saga_messaging::secret::LocalStack::default()
                        .password_file(&format!("postgres-{role}"));
                    env.push(("DATABASE_PASSWORD_FILE".into(), file.display().to_string()));
                }
            }
            procs.insert(
                (service, 0),
                Proc {
                    service,
                    port,
                    env,
                    log_path: log_dir.join(format!("{}.log", service.name())),
                    child: None,
                    netns: namespaced.map(|n| n.netns.clone()),
                },
            );
        }
        let host = |s: &Service| match &options.namespaced {
            Some(n) if n.service == *s => n.address.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let api = Api::new(
            ports
                .iter()
                .map(|(s, p)| (*s, format!("http://{}:{p}", host(s))))
                .collect(),
        );
        let system = System {
            run_id,
            log_dir,
            kafka,
            api,
            ledger: Arc::new(Ledger::default()),
            order_timeout: Duration::from_secs_f64(options.order_timeout_secs),
            inventory_store: if options.inventory_mongodb.is_some() {
                "mongodb"
            } else {
                "postgres"
            },
            bin_dir,
            procs: Mutex::new(procs),
            _serial: serial,
        };
        eprintln!(
            "e2e: run {} (topic prefix {}, inventory on {}), logs in {}",
            system.run_id,
            system.kafka.topic_prefix,
            system.inventory_store,
            system.log_dir.display()
        );
        {
            let mut procs = system.procs.lock().unwrap();
            for p in procs.values_mut() {
                p.spawn(&system.bin_dir);
            }
        }
        for service in Service::ALL {
            system.wait_ready(service).await;
        }
        system
    }

    /// The HTTP port of the service (instance 0).
    pub fn port(&self, service: Service) -> u16 {
        self.procs.lock().unwrap()[&(service, 0)].port
    }

    /// The value of the variable `name` the service (instance 0) was started with.
    pub fn env(&self, service: Service, name: &str) -> Option<String> {
        self.procs.lock().unwrap()[&(service, 0)]
            .env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Whether the service (instance 0) has exited, with its status.
    pub fn exited(&self, service: Service) -> Option<String> {
        self.procs
            .lock()
            .unwrap()
            .get_mut(&(service, 0))
            .unwrap()
            .exited()
    }

    pub fn log_path(&self, service: Service) -> PathBuf {
        self.log_dir.join(format!("{}.log", service.name()))
    }

    /// Polls `GET /ready` until 200 (60 s), failing early if the process exited.
    pub async fn wait_ready(&self, service: Service) {
        self.wait_instance_ready((service, 0), &self.api).await;
    }

    /// [`wait_ready`](Self::wait_ready) for any instance, reached through `api`.
    async fn wait_instance_ready(&self, instance: Instance, api: &Api) {
        let service = instance.0;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .procs
                .lock()
                .unwrap()
                .get_mut(&instance)
                .unwrap()
                .exited()
            {
                panic!("{} exited during start-up ({status})", service.name());
            }
            if api.ready(service).await {
                return;
            }
            if Instant::now() > deadline {
                panic!("{} not ready within 60 s", service.name());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9` the service.
    pub fn kill(&self, service: Service) {
        self.kill_instance((service, 0));
    }

    /// `kill -9` one instance of a service.
    pub fn kill_instance(&self, instance: Instance) {
        eprintln!(
            "e2e: kill -9 {} (instance {})",
            instance.0.name(),
            instance.1
        );
        self.procs
            .lock()
            .unwrap()
            .get_mut(&instance)
            .unwrap()
            .kill();
    }

    /// SIGTERM the service and wait for it to exit.
    pub async fn stop(&self, service: Service) {
        eprintln!("e2e: stopping {}", service.name());
        let child = self
            .procs
            .lock()
            .unwrap()
            .get_mut(&(service, 0))
            .unwrap()
            .child
            .take();
        if let Some(child) = child {
            tokio::task::spawn_blocking(move || stop_child(service.name(), child))
                .await
                .expect("stopping a service");
        }
    }

    /// Starts the service again with the same configuration and waits until it is ready.
    pub async fn start_service(&self, service: Service) {
        eprintln!("e2e: starting {}", service.name());
        self.procs
            .lock()
            .unwrap()
            .get_mut(&(service, 0))
            .unwrap()
            .spawn(&self.bin_dir);
        self.wait_ready(service).await;
    }

    pub async fn stop_all(&self) {
        for s in Service::ALL {
            self.stop(s).await;
        }
    }

    pub async fn start_all(&self) {
        {
            let mut procs = self.procs.lock().unwrap();
            for p in procs.values_mut() {
                p.spawn(&self.bin_dir);
            }
        }
        for s in Service::ALL {
            self.wait_ready(s).await;
        }
    }

    /// The log of a service, as text.
    pub fn log(&self, service: Service) -> String {
        std::fs::read_to_string(self.log_path(service)).unwrap_or_default()
    }

    /// Starts a second instance of every service, in the same consumer groups and on the same
    /// stores and topics as the first, and returns an [`Api`] that talks to the second ones.
    pub async fn start_second_instances(&self) -> Api {
        let mut base = BTreeMap::new();
        {
            let mut procs = self.procs.lock().unwrap();
            for service in Service::ALL {
                let first = &procs[&(service, 0)];
                let port = free_port();
                let mut env: Vec<(String, String)> = first
                    .env
                    .iter()
                    .filter(|(k, _)| k != "HTTP_PORT")
                    .cloned()
                    .collect();
                env.push(("HTTP_PORT".into(), port.to_string()));
                let mut second = Proc {
                    service,
                    port,
                    env,
                    log_path: self.log_dir.join(format!("{}.2.log", service.name())),
                    child: None,
                    netns: None,
                };
                eprintln!("e2e: starting a second {} on port {port}", service.name());
                second.spawn(&self.bin_dir);
                procs.insert((service, 1), second);
                base.insert(service, format!("http://127.0.0.1:{port}"));
            }
        }
        let api = Api::new(base);
        for service in Service::ALL {
            self.wait_instance_ready((service, 1), &api).await;
        }
        api
    }

    fn print_log_tails(&self, lines: usize) {
        let paths: Vec<PathBuf> = self
            .procs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|p| p.log_path.clone())
            .collect();
        for path in paths {
            let s = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let from = all.len().saturating_sub(lines);
            eprintln!(
                "----- e2e: last {} lines of {} ({}) -----",
                all.len() - from,
                s,
                path.display()
            );
            for line in &all[from..] {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for System {
    fn drop(&mut self) {
        let procs = self.procs.get_mut().unwrap_or_else(|e| e.into_inner());
        for p in procs.values_mut() {
            p.kill();
        }
        if std::thread::panicking() {
            let lines = std::env::var("E2E_LOG_TAIL")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(40);
            self.print_log_tails(lines);
            eprintln!(
                "e2e: run {} failed; full logs in {}",
                self.run_id,
                self.log_dir.display()
            );
        }
    }
}

/// A Kafka broker of the test's own (a separate `STACK_DIR` and ports), so that restarting it
/// disturbs nobody else's tests. Managed with `scripts/stack restart-broker` / `down --purge`,
/// which keep its log across a restart.
pub struct PrivateBroker {
    pub port: u16,
    /// The KRaft controller's port: fixed for the broker's life, since its quorum names it.
    controller_port: u16,
    dir: PathBuf,
}

/// `scripts/stack <args>` for the broker in `dir` on `port` (controller on `controller_port`);
/// panics if it fails.
fn stack(dir: &Path, port: u16, controller_port: u16, args: &[&str]) -> String {
    let (ok, text) = saga_tests::scripts_stack(dir, port, controller_port, args);
    assert!(ok, "scripts/stack {args:?} failed:\n{text}");
    text
}

impl PrivateBroker {
    pub async fn start() -> PrivateBroker {
        let broker = PrivateBroker {
            port: free_port(),
            controller_port: free_port(),
            dir: profile_dir()
                .parent()
                .expect("target dir")
                .join("e2e-broker")
                .join(Uuid::new_v4().simple().to_string()),
        };
        let (dir, port, controller) = (broker.dir.clone(), broker.port, broker.controller_port);
        let out =
            tokio::task::spawn_blocking(move || stack(&dir, port, controller, &["restart-broker"]))
                .await
                .expect("starting the private broker");
        eprintln!("e2e: private broker: {}", out.trim().replace('\n', "; "));
        broker
    }

    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `scripts/stack restart-broker`: stop the Kafka process and start it again on its log.
    pub async fn restart(&self) -> Duration {
        let started = Instant::now();
        let (dir, port, controller) = (self.dir.clone(), self.port, self.controller_port);
        let out =
            tokio::task::spawn_blocking(move || stack(&dir, port, controller, &["restart-broker"]))
                .await
                .expect("restarting the private broker");
        eprintln!(
            "e2e: private broker restarted: {}",
            out.trim().replace('\n', "; ")
        );
        started.elapsed()
    }
}

impl PrivateBroker {
    /// `scripts/stack down`: stops the broker, keeping its log, until [`start`](Self::start).
    pub async fn stop(&self) {
        let (dir, port, controller) = (self.dir.clone(), self.port, self.controller_port);
        let out = tokio::task::spawn_blocking(move || stack(&dir, port, controller, &["down"]))
            .await
            .expect("stopping the private broker");
        eprintln!(
            "e2e: private broker stopped: {}",
            out.trim().replace('\n', "; ")
        );
    }

    /// Starts the stopped broker again on its log (`scripts/stack restart-broker`).
    pub async fn start_again(&self) -> Duration {
        self.restart().await
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        // On failure its data and log (`<dir>/kafka/kafka.log`) are kept for a post-mortem.
        let args: &[&str] = if std::thread::panicking() {
            eprintln!("e2e: private broker's files kept in {}", self.dir.display());
            &["down"]
        } else {
            &["down", "--purge"]
        };
        let _ = saga_tests::scripts_stack(&self.dir, self.port, self.controller_port, args);
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

impl System {
    /// A handle that creates things through the APIs and records them in this run's ledger.
    pub fn actor(&self) -> Actor {
        Actor {
            api: self.api.clone(),
            ledger: self.ledger.clone(),
        }
    }

    /// The invariant checker, with a deadline of the saga's deadline plus `slack`.
    pub async fn check(&self, slack: Duration) -> World {
        self.check_through(&self.api, slack).await
    }

    /// [`check`](Self::check), reading the system through `api` (the second instances, when
    /// the first ones were killed).
    pub async fn check_through(&self, api: &Api, slack: Duration) -> World {
        checker::assert_invariants(api, &self.kafka, &self.ledger, self.order_timeout + slack).await
    }
}
