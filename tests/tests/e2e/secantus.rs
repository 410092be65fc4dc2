//! A MongoDB-protocol server of a test's own: SecantusDB (the server `scripts/stack up` runs on
//! 127.0.0.1:27017, from the venv it installed), on a free port with its data in a temporary
//! directory, so that a scenario can stop it for a while without disturbing any other test. It
//! advertises itself as the primary of a one-node replica set named `secantus`, fsyncs at
//! every commit (`--sync-on-commit`) and keeps its data across a stop, as a real deployment's
//! would. It has the stack's posture: TLS only with the stack's `mongodb` certificate, and
//! `--auth` with the stack's users `operator` and `inventory`, made as `scripts/stack` makes
//! them (`scripts/mongodb/users.py` on a first start without `--auth`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use saga_messaging::secret::LocalStack;
use saga_tests::free_port;
use uuid::Uuid;

use super::harness::workspace_dir;

/// How long the server has to come up or go down.
const WAIT: Duration = Duration::from_secs(60);

/// The venv `scripts/stack up` installs SecantusDB into (`.stack` is shared by worktrees).
fn venv() -> PathBuf {
    workspace_dir().join(".stack/secantus-venv")
}

/// A SecantusDB server in a temporary directory.
pub struct PrivateSecantus {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Whether the server runs with `--auth` (all but its first start).
    auth: bool,
}

impl PrivateSecantus {
    /// Starts the server and waits until it is ready.
    pub async fn start() -> PrivateSecantus {
        let mut server = PrivateSecantus {
            port: free_port(),
            dir: std::env::temp_dir().join(format!("e2e-secantus-{}", Uuid::new_v4().simple())),
            child: None,
            auth: false,
        };
        std::fs::create_dir_all(server.dir.join("data")).expect("creating the server's directory");
        // An empty configuration file: without `--config` the server reads `secantusd.toml`
        // from the working directory or the home directory, whatever they hold.
        std::fs::write(server.dir.join("secantusd.toml"), "").expect("writing its config");
        // The users, made on a first start without --auth (the stack's bootstrap), then the
        // server as the test uses it: with --auth.
        server.auth = false;
        server.start_server().await;
        server.make_users().await;
        server.stop_server().await;
        server.auth = true;
        server.start_server().await;
        server
    }

    /// The server's URL, without a database (for [`super::harness::Options`]): TLS checked
    /// against the stack's CA, and no credential (the harness logs in as the operator).
    pub fn url(&self) -> String {
        let ca = LocalStack::default().ca_file();
        format!(
            "mongodb://127.0.0.1:{}/?replicaSet=secantus&tls=true&tlsCAFile={}",
            self.port,
            ca.display()
        )
    }

    /// The environment of the stack's Python scripts (`scripts/mongodb/stack_client.py`): TLS
    /// with the stack's CA, and the operator's password once the server runs with `--auth`.
    fn script_env(&self) -> Vec<(&'static str, PathBuf)> {
        let stack = LocalStack::default();
        let mut env = vec![
            ("MONGO_TLS_CA_FILE", stack.ca_file()),
            ("PYTHONPATH", workspace_dir().join("scripts/mongodb")),
        ];
        if self.auth {
            env.push((
                "MONGO_PASSWORD_FILE",
                stack.password_file("mongodb-operator"),
            ));
        }
        env
    }

    /// Makes the users `operator` and `inventory` with the stack's passwords, as
    /// `scripts/stack up` does on its server.
    async fn make_users(&self) {
        let stack = LocalStack::default();
        let mut cmd = Command::new(venv().join("bin/python"));
        cmd.arg(workspace_dir().join("scripts/mongodb/users.py"))
            .arg(self.url_without_tls())
            .arg(stack.password_file("mongodb-operator"))
            .arg(stack.password_file("mongodb-inventory"))
            .envs(self.script_env());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("the users script")
            .expect("running scripts/mongodb/users.py");
        assert!(
            out.status.success(),
            "making the private SecantusDB's users: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL the Python scripts take (they add TLS from their environment).
    fn url_without_tls(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?replicaSet=secantus", self.port)
    }

    /// Starts `secantusd-py` on its data directory and waits until it is ready: it answers
    /// `hello` as the writable primary of a replica set and a transaction commits and is read
    /// back (`scripts/mongodb/stack_probe.py`, the stack's own probe).
    pub async fn start_server(&mut self) {
        assert!(
            self.child.is_none(),
            "the private SecantusDB is already running"
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("secantusd.log"))
            .expect("opening the server's log");
        let stack = LocalStack::default();
        let mut command = Command::new(venv().join("bin/secantusd-py"));
        command
            .arg("--config")
            .arg(self.dir.join("secantusd.toml"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            .arg("--tls-cert-file")
            .arg(stack.server_cert_file("mongodb"))
            .arg("--tls-key-file")
            .arg(stack.server_key_file("mongodb"))
            .args(["--sync-on-commit", "--log-level", "WARNING"]);
        if self.auth {
            command.arg("--auth");
        }
        let child = command
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning a log handle"))
            .stderr(log)
            .spawn()
            .expect("starting secantusd-py (scripts/stack up installs it in .stack/secantus-venv)");
        self.child = Some(child);
        let started = Instant::now();
        loop {
            let status = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = status {
                panic!(
                    "the private SecantusDB exited at start ({status}); see {}",
                    self.dir.join("secantusd.log").display()
                );
            }
            let (ready, line) = self.probe().await;
            if ready {
                eprintln!(
                    "e2e: private SecantusDB ready on port {} in {:.1}s ({line})",
                    self.port,
                    started.elapsed().as_secs_f64()
                );
                return;
            }
            assert!(
                started.elapsed() < WAIT,
                "the private SecantusDB was not ready within {WAIT:?}: {line}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The stack's probe against this server: whether it is ready, and its line.
    async fn probe(&self) -> (bool, String) {
        let python = venv().join("bin/python");
        let script = workspace_dir().join("scripts/mongodb/stack_probe.py");
        let url = self.url_without_tls();
        let env = self.script_env();
        tokio::task::spawn_blocking(move || {
            match Command::new(python)
                .arg(script)
                .args([&url, "2000"])
                .envs(env)
                .output()
            {
                Ok(out) => (
                    out.status.success(),
                    String::from_utf8_lossy(&out.stdout).trim().to_owned(),
                ),
                Err(e) => (false, format!("running the probe: {e}")),
            }
        })
        .await
        .expect("the probe")
    }

    /// `kill` (SIGTERM) and wait for the exit, SIGKILL if it has not exited within
    /// [`WAIT`]: every client is disconnected and the port refuses connections until
    /// [`start_server`](Self::start_server). Returns how it ended.
    pub async fn stop_server(&mut self) -> String {
        let Some(mut child) = self.child.take() else {
            return "not running".into();
        };
        tokio::task::spawn_blocking(move || {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + WAIT;
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return format!("exited on SIGTERM ({status})"),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return format!("killed after {WAIT:?} of SIGTERM");
                    }
                }
            }
        })
        .await
        .expect("stopping SecantusDB")
    }
}

impl Drop for PrivateSecantus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "e2e: the private SecantusDB's files are kept in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
