//! A PostgreSQL server and a Redis server of a test's own, on free ports, so that a scenario
//! can stop a store for a while without disturbing any other test (the shared servers of
//! `scripts/stack` stay up). Both keep their data across a stop, as a real deployment's would:
//! PostgreSQL with its defaults (fsync, `synchronous_commit`), Redis with an append-only file
//! fsynced on every write.
//!
//! The PostgreSQL server has the local stack's posture (`scripts/stack`): TLS with the stack's
//! certificate, SCRAM, TCP without TLS rejected, the superuser `postgres` and one login role
//! per service with the stack's passwords, so the services log in to it exactly as to the
//! shared server. Redis has the stack's posture too: TLS only, and its ACL users, so that
//! notification connects to it with the same credentials as to the stack's.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use saga_messaging::secret::LocalStack;
use saga_tests::free_port;
use uuid::Uuid;

/// How long a server has to come up or go down.
const WAIT: Duration = Duration::from_secs(60);

/// Runs `program args…`, as the `postgres` user when this process is root (PostgreSQL refuses
/// to run as root); panics with its output if it fails.
fn run_as_postgres(program: &Path, args: &[&str]) -> String {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{text}",
        program.display(),
        out.status
    );
    text
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The newest server installed under `/usr/lib/postgresql/<version>/bin` (Debian's layout,
/// which `scripts/stack up` installs).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries in /usr/lib/postgresql (scripts/stack up)")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
        .1
}

/// The roles `scripts/stack` makes, one per PostgreSQL service.
const SERVICE_ROLES: [&str; 4] = ["customer", "orders", "inventory", "billing"];

/// The local stack's client-authentication rules (scripts/stack writes the same).
const PG_HBA: &str = "\
local     all  postgres               peer
hostssl   all  all       127.0.0.1/32 scram-sha-256
hostssl   all  all       ::1/128      scram-sha-256
hostnossl all  all       all          reject
";

/// Copies `from` to `to` with `mode`, owned by the `postgres` user when this process is root.
fn install_for_postgres(from: &Path, to: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if is_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(to)
            .status()
            .expect("chown");
        assert!(status.success(), "chown postgres {}", to.display());
    }
}

/// A PostgreSQL cluster in a temporary directory, with the local stack's posture on 127.0.0.1.
pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: PathBuf,
}

/// A file of the local stack's TLS directory (next to its CA).
fn stack_tls(stack: &LocalStack, name: &str) -> PathBuf {
    stack
        .ca_file()
        .parent()
        .expect("the CA's directory")
        .join(name)
}

impl PrivatePostgres {
    /// `initdb`, then starts the server.
    pub async fn start() -> PrivatePostgres {
        let pg = PrivatePostgres {
            port: free_port(),
            bin: postgres_bin(),
            dir: std::env::temp_dir().join(format!("e2e-pg-{}", Uuid::new_v4().simple())),
        };
        std::fs::create_dir_all(&pg.dir).expect("creating the cluster's directory");
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&pg.dir)
                .status()
                .expect("chown");
            assert!(status.success(), "chown postgres {}", pg.dir.display());
        }
        let stack = LocalStack::default();
        // initdb reads the superuser's password from a file the postgres user can read.
        let pwfile = pg.dir.join("superuser.password");
        install_for_postgres(&stack.password_file("postgres-postgres"), &pwfile, 0o600);
        let (bin, data, pw) = (pg.bin.clone(), pg.data(), pwfile.display().to_string());
        tokio::task::spawn_blocking(move || {
            run_as_postgres(
                &bin.join("initdb"),
                &[
                    "-D",
                    &data,
                    "-U",
                    "postgres",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--pwfile",
                    &pw,
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
            )
        })
        .await
        .expect("initdb");
        std::fs::remove_file(&pwfile).expect("removing the password file");
        let data = pg.dir.join("data");
        install_for_postgres(
            &stack_tls(&stack, "postgres.crt"),
            &data.join("server.crt"),
            0o644,
        );
        install_for_postgres(
            &stack_tls(&stack, "postgres.key"),
            &data.join("server.key"),
            0o600,
        );
        std::fs::write(data.join("pg_hba.conf"), PG_HBA).expect("writing pg_hba.conf");
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("opening postgresql.conf");
        std::io::Write::write_all(
            &mut conf,
            b"\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
              password_encryption = scram-sha-256\n\
              wal_level = logical\nmax_replication_slots = 20\nmax_wal_senders = 20\n\
              max_slot_wal_keep_size = '2GB'\n",
        )
        .expect("writing postgresql.conf");
        pg.start_server().await;
        pg.create_roles(&stack).await;
        pg
    }

    /// One login role per service (with `REPLICATION`, for its outbox relay's stream), with
    /// the local stack's password (over TLS, as the superuser), as `scripts/stack` makes them.
    async fn create_roles(&self, stack: &LocalStack) {
        use secrecy::ExposeSecret;
        use sqlx::{ConnectOptions, Connection};
        let admin = saga_messaging::postgres::connect_options_with(
            &self.admin_url(),
            saga_messaging::testing::ADMIN_PASSWORD_VARIABLE,
        )
        .expect("the private server's superuser");
        let mut admin = admin
            .connect()
            .await
            .expect("connecting to the private PostgreSQL as its superuser");
        for role in SERVICE_ROLES {
            let password = stack
                .password(&format!("postgres-{role}"))
                .expect("the local stack's role passwords (scripts/stack up)");
            sqlx::query(&format!(
                r#"CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION PASSWORD '{}'"#,
                password.expose_secret().replace('\'', "''")
            ))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating role {role} on the private PostgreSQL: {e}"));
        }
        let _ = admin.close().await;
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// The superuser's URL (over TLS, verified; the password is the local stack's), for
    /// [`saga_messaging::testing::fresh_database_url_on`].
    pub fn admin_url(&self) -> String {
        saga_messaging::postgres::server_url(
            &format!("127.0.0.1:{}", self.port),
            "postgres",
            "postgres",
            &LocalStack::default().ca_file(),
        )
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub async fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let (bin, data, log) = (
            self.bin.clone(),
            self.data(),
            self.dir.join("server.log").display().to_string(),
        );
        let wait = WAIT.as_secs().to_string();
        tokio::task::spawn_blocking(move || {
            run_as_postgres(
                &bin.join("pg_ctl"),
                &[
                    "-D", &data, "-l", &log, "-o", &options, "-w", "-t", &wait, "start",
                ],
            )
        })
        .await
        .expect("pg_ctl start");
    }

    /// `pg_ctl stop -m fast`: open transactions are rolled back and every client is
    /// disconnected, as when a server is shut down for maintenance.
    pub async fn stop_server(&self) {
        let (bin, data) = (self.bin.clone(), self.data());
        let wait = WAIT.as_secs().to_string();
        tokio::task::spawn_blocking(move || {
            run_as_postgres(
                &bin.join("pg_ctl"),
                &["-D", &data, "-m", "fast", "-w", "-t", &wait, "stop"],
            )
        })
        .await
        .expect("pg_ctl stop");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = std::panic::catch_unwind(|| {
            run_as_postgres(
                &self.bin.join("pg_ctl"),
                &["-D", &data, "-m", "immediate", "-w", "stop"],
            )
        });
        if std::thread::panicking() {
            eprintln!(
                "e2e: the private PostgreSQL's files are kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A Redis server in a temporary directory, with an append-only file fsynced on every write;
/// TLS only, with the stack's certificate and ACL users
/// ([`saga_messaging::testing::redis_server_command`]).
pub struct PrivateRedis {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let mut redis = PrivateRedis {
            port: free_port(),
            dir: std::env::temp_dir().join(format!("e2e-redis-{}", Uuid::new_v4().simple())),
            child: None,
        };
        std::fs::create_dir_all(&redis.dir).expect("creating Redis's directory");
        redis.start_server().await;
        redis
    }

    /// Notification's `REDIS_URL` for this server: its ACL user over TLS (the password and
    /// the CA are the local stack's, as for the stack's Redis).
    pub fn url(&self) -> String {
        format!("rediss://notification@127.0.0.1:{}", self.port)
    }

    /// Starts `redis-server` on its directory (reloading its append-only file) and waits
    /// until it answers `PING`.
    pub async fn start_server(&mut self) {
        assert!(self.child.is_none(), "the private Redis is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .expect("opening Redis's log");
        let child = saga_messaging::testing::redis_server_command(self.port, &self.dir)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning a log handle"))
            .stderr(log)
            .spawn()
            .expect("starting redis-server (scripts/stack up installs it)");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if self.pong().await {
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "the private Redis did not answer within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the server answers `PING` over TLS as notification.
    async fn pong(&self) -> bool {
        let stack = saga_messaging::secret::LocalStack::default();
        let Ok(settings) = saga_messaging::redis_store::RedisSettings::for_url(
            &saga_messaging::env::Env::process(),
            &self.url(),
            &stack,
        ) else {
            return false;
        };
        let Ok(client) = settings.client() else {
            return false;
        };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok_and(|pong| pong == "PONG")
    }

    /// SIGTERM and wait for the exit: every client is disconnected and the port refuses
    /// connections until [`start_server`](Self::start_server).
    pub async fn stop_server(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        tokio::task::spawn_blocking(move || {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        })
        .await
        .expect("stopping Redis");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
