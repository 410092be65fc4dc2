//! Redis for tests (feature `redis`), with the local stack's posture: TLS only, and ACL users.
//! - [`redis_settings`]: notification's settings, as the service reads them (`REDIS_URL`, …);
//! - [`redis_admin_settings`]: the same server as the operator (`default`), who may clean up
//!   what a test left ([`delete_keys_blocking`]);
//! - [`redis_server_command`]: a `redis-server` of a test's own, on its own port, with the
//!   stack's certificate and ACL file, so that notification's credentials work on it as on the
//!   stack's.

use std::path::Path;
use std::process::Command;

use redis::aio::ConnectionManager;

use crate::env::Env;
use crate::redis_store::{self, RedisSettings};
use crate::secret::LocalStack;

/// Notification's Redis settings from the environment (default: the local stack's Redis over
/// TLS as the ACL user `notification`).
pub fn redis_settings() -> RedisSettings {
    RedisSettings::from_env("notification").expect("the REDIS_* settings")
}

/// The same server as [`redis_settings`], as the operator: the user `default`, with the
/// password `TEST_REDIS_ADMIN_PASSWORD` (or `…_FILE`), else the local stack's `redis-default`.
pub fn redis_admin_settings() -> RedisSettings {
    let password = Env::process()
        .secret_or_file(
            "TEST_REDIS_ADMIN_PASSWORD",
            &LocalStack::default().password_file("redis-default"),
        )
        .expect("the Redis operator's password");
    redis_settings().as_user("default", Some(password))
}

/// A connection with `settings`; panics naming the server when there is none.
pub async fn redis_connection(settings: &RedisSettings) -> ConnectionManager {
    redis_store::connect(settings)
        .await
        .unwrap_or_else(|e| panic!("{e:#}; is the stack up? (scripts/stack up)"))
}

/// Deletes every key that starts with `prefix`, as the operator (`SCAN` and `DEL`, which
/// notification's user may not run), blocking: for a test's `Drop`. Returns how many it deleted.
pub fn delete_keys_blocking(prefix: &str) -> redis::RedisResult<usize> {
    let client = redis_admin_settings().client().map_err(|e| {
        redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "the operator's Redis client",
            e.to_string(),
        ))
    })?;
    let mut conn = client.get_connection()?;
    let pattern = format!("{prefix}*");
    let (mut cursor, mut deleted) = (0u64, 0usize);
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query::<()>(&mut conn)?;
            deleted += keys.len();
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

/// `redis-server` on `port` (TLS only: `--port 0`, `--tls-port`) with the local stack's Redis
/// certificate, its CA, and the ACL users of `scripts/stack` (its users file), working in `dir`.
/// Add persistence flags as the test needs them, then spawn it.
pub fn redis_server_command(port: u16, dir: &Path) -> Command {
    let stack = LocalStack::default();
    let acl = stack.redis_acl_file();
    assert!(
        acl.is_file(),
        "{} is missing: scripts/stack up writes it",
        acl.display()
    );
    let mut cmd = Command::new("redis-server");
    cmd.args(["--bind", "127.0.0.1", "--port", "0", "--tls-port"])
        .arg(port.to_string())
        .arg("--tls-cert-file")
        .arg(stack.server_cert_file("redis"))
        .arg("--tls-key-file")
        .arg(stack.server_key_file("redis"))
        .arg("--tls-ca-cert-file")
        .arg(stack.ca_file())
        .args(["--tls-auth-clients", "no"])
        .arg("--aclfile")
        .arg(acl)
        .arg("--dir")
        .arg(dir);
    cmd
}
