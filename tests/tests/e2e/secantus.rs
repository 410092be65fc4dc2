//! A MongoDB-protocol server of a test's own: SecantusDB (the server `scripts/stack up` runs on
//! 127.0.0.1:27017, from the venv it installed), on a free port with its data in a temporary
//! directory, so that a scenario can stop it for a while without disturbing any other test. It
//! advertises itself as the primary of a one-node replica set named `secantus`, fsyncs at
//! every commit (`--sync-on-commit`) and keeps its data across a stop, as a real deployment's
//! would.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
}

impl PrivateSecantus {
    /// Starts the server and waits until it is ready.
    pub async fn start() -> PrivateSecantus {
        let mut server = PrivateSecantus {
            port: free_port(),
            dir: std::env::temp_dir().join(format!("e2e-secantus-{}", Uuid::new_v4().simple())),
            child: None,
        };
        std::fs::create_dir_all(server.dir.join("data")).expect("creating the server's directory");
        // An empty configuration file: without `--config` the server reads `secantusd.toml`
        // from the working directory or the home directory, whatever they hold.
        std::fs::write(server.dir.join("secantusd.toml"), "").expect("writing its config");
        server.start_server().await;
        server
    }

    /// The server's URL, without a database (for [`super::harness::Options`]).
    pub fn url(&self) -> String {
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
        let child = Command::new(venv().join("bin/secantusd-py"))
            .arg("--config")
            .arg(self.dir.join("secantusd.toml"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(self.dir.join("data"))
            .args(["--sync-on-commit", "--log-level", "WARNING"])
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
        let url = self.url();
        tokio::task::spawn_blocking(move || {
            match Command::new(python)
                .arg(script)
                .args([&url, "2000"])
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
