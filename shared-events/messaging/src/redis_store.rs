//! The idempotent-consumer step for Redis: inbox key, de-duplication guards and the effect,
//! applied by one Lua script, which Redis runs atomically.
//!
//! A [`RedisHandler`] may read what it needs first, then returns a [`RedisEffect`]: a list of
//! write commands, optionally grouped under a guard (`SET <key> 1 NX`) so that a group runs at
//! most once per guard key (e.g. one notification per order and kind). The script sets the inbox
//! key `<key prefix>inbox:<consumer>:<event_id>` with `NX` (see [`inbox_key`]: under the
//! service's key prefix, so that an ACL user limited to that prefix may write it); if it existed,
//! the event is a duplicate and nothing else happens.
//!
//! [`RedisSettings`] reads where and as whom to connect (`REDIS_URL`, `REDIS_PASSWORD`,
//! `REDIS_CA_FILE`); [`connect`] opens the connection.
//!
//! Inbox keys expire (after the handler's inbox TTL); guard keys never do. A broker may keep
//! records for longer than any TTL, and a replay of them after the inbox keys are gone must
//! still find the guards. A guard is one small key per thing done once (an order and a kind,
//! say).
//!
//! Redis has no rollback: a command that fails inside the script (a type error) leaves the
//! earlier writes in place. Effects should therefore only use commands that cannot fail on
//! well-typed keys, which is what the handlers of this system do.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::IntoConnectionInfo;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::consumer::{Handler, HandlerError, Outcome};
use crate::env::{ConfigError, Env};
use crate::secret::LocalStack;
use saga_contracts::envelope::Envelope;

const APPLY_SCRIPT: &str = r#"
-- KEYS[1]: inbox key; ARGV[1]: inbox TTL in seconds; ARGV[2]: JSON list of steps.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
    return 0
end
local steps = cjson.decode(ARGV[2])
for _, step in ipairs(steps) do
    local run = true
    if step.guard then
        run = redis.call('SET', step.guard, '1', 'NX') ~= false
    end
    if run then
        for _, command in ipairs(step.commands) do
            redis.call(unpack(command))
        end
    end
end
return 1
"#;

/// Longest wait between two reconnection attempts.
///
/// The connection manager's defaults (a "factor" of 100 on a backoff that starts at 1 s and is
/// capped at 60 s) wait a minute between attempts from the second one on. After an outage,
/// every command then hung for up to a minute more after Redis was back.
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(2);
/// Attempts per reconnection; commands waiting on it fail once they are used up, and the next
/// command starts a new one.
const RECONNECT_ATTEMPTS: usize = 5;
/// How long one connection attempt may take: a dead host does not hold commands for a TCP
/// timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a command may wait for its answer. Without it, a command sent while the server
/// goes away waits for as long as the reconnection does. A timed-out step is retried, and its
/// inbox key makes the retry safe.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server that [`RedisSettings::from_env`] connects to when `REDIS_URL` is not set: the
/// local stack's Redis, over TLS.
pub const LOCAL_REDIS: &str = "127.0.0.1:6379";

/// Which certificates a `rediss://` connection trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTls {
    /// `redis://`: no TLS (the password, if any, crosses the network in clear).
    Off,
    /// Only the CA (PEM) in this file: `REDIS_CA_FILE`, or the local stack's CA for a loopback
    /// host.
    CaFile(PathBuf),
    /// The system's root certificates: a managed Redis whose certificate a public CA signed.
    SystemRoots,
}

/// Where and as whom a service reaches Redis (SPEC §6, §7):
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `REDIS_URL` | `rediss://<user>@127.0.0.1:6379` | the server, the ACL user (`rediss://user[:password]@host:port[/db]`); `redis://` is plaintext |
/// | `REDIS_PASSWORD`, `REDIS_PASSWORD_FILE` | the local stack's `redis-<user>` file, when the URL names a user | the user's password, unless the URL holds one (both: an error) |
/// | `REDIS_CA_FILE` | the local stack's CA for a loopback host, else the system's roots | the CA (PEM) a `rediss://` server's certificate must chain to |
///
/// Neither `Debug` nor `Display` shows the password.
#[derive(Clone)]
pub struct RedisSettings {
    /// The server and user; its password is always `None` (it lives in `password`).
    info: redis::ConnectionInfo,
    password: Option<SecretString>,
    tls: RedisTls,
}

impl RedisSettings {
    /// The settings from the process's environment ([`read`](Self::read)).
    pub fn from_env(user: &str) -> Result<RedisSettings, ConfigError> {
        RedisSettings::read(&Env::process(), user)
    }

    /// The settings from `env` (table above), for the ACL user `user` when `REDIS_URL` is not
    /// set; defaults from the local stack ([`LocalStack::default`]).
    pub fn read(env: &Env, user: &str) -> Result<RedisSettings, ConfigError> {
        RedisSettings::read_with(env, user, &LocalStack::default())
    }

    /// [`read`](Self::read), with the local stack kept in `stack`.
    pub fn read_with(
        env: &Env,
        user: &str,
        stack: &LocalStack,
    ) -> Result<RedisSettings, ConfigError> {
        let url = env
            .opt("REDIS_URL")?
            .unwrap_or_else(|| format!("rediss://{user}@{LOCAL_REDIS}"));
        RedisSettings::for_url(env, &url, stack)
    }

    /// The settings for `url` (as if `REDIS_URL` were `url`): the password and the CA as the
    /// table above says, from `REDIS_PASSWORD`, `REDIS_CA_FILE` or `stack`.
    pub fn for_url(env: &Env, url: &str, stack: &LocalStack) -> Result<RedisSettings, ConfigError> {
        let mut info = url
            .trim()
            .into_connection_info()
            .map_err(|e| invalid("REDIS_URL", &redact_url(url), e))?;
        let in_url = info.redis.password.take().map(SecretString::from);
        let password = match (in_url, env.secret("REDIS_PASSWORD")?) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "REDIS_PASSWORD",
                    "[redacted]",
                    "REDIS_URL holds a password too; give it once",
                ))
            }
            (Some(p), None) | (None, Some(p)) => Some(p),
            (None, None) => match &info.redis.username {
                Some(named) => Some(env.secret_or_file(
                    "REDIS_PASSWORD",
                    &stack.password_file(&format!("redis-{named}")),
                )?),
                None => None,
            },
        };
        let ca_file: Option<PathBuf> = env.opt("REDIS_CA_FILE")?;
        let tls = match (&info.addr, ca_file) {
            (redis::ConnectionAddr::TcpTls { .. }, Some(path)) => RedisTls::CaFile(path),
            (redis::ConnectionAddr::TcpTls { host, .. }, None) if is_loopback(host) => {
                RedisTls::CaFile(stack.ca_file())
            }
            (redis::ConnectionAddr::TcpTls { .. }, None) => RedisTls::SystemRoots,
            (_, Some(path)) => {
                return Err(invalid(
                    "REDIS_CA_FILE",
                    &path.to_string_lossy(),
                    "REDIS_URL is not a rediss:// URL",
                ))
            }
            (_, None) => RedisTls::Off,
        };
        Ok(RedisSettings {
            info,
            password,
            tls,
        })
    }

    /// The same server and trust, as `user` with `password` (a test's admin, say).
    pub fn as_user(&self, user: &str, password: Option<SecretString>) -> RedisSettings {
        let mut other = self.clone();
        other.info.redis.username = Some(user.to_owned());
        other.password = password;
        other
    }

    /// The same user, password and trust, on another port of the same host (a test's own
    /// server).
    pub fn on_port(&self, port: u16) -> RedisSettings {
        let mut other = self.clone();
        match &mut other.info.addr {
            redis::ConnectionAddr::Tcp(_, p) | redis::ConnectionAddr::TcpTls { port: p, .. } => {
                *p = port
            }
            redis::ConnectionAddr::Unix(_) => {}
        }
        other
    }

    /// The same user and password over plaintext TCP (`redis://`) to the same host and port:
    /// what a client that skips TLS would try.
    pub fn plaintext(&self) -> RedisSettings {
        let mut other = self.clone();
        if let redis::ConnectionAddr::TcpTls { host, port, .. } = &other.info.addr {
            other.info.addr = redis::ConnectionAddr::Tcp(host.clone(), *port);
        }
        other.tls = RedisTls::Off;
        other
    }

    /// The ACL user, if the URL names one (else Redis's `default`).
    pub fn user(&self) -> Option<&str> {
        self.info.redis.username.as_deref()
    }

    /// Whether a password is sent.
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The password sent, if any (a test probing the server's refusals sends it by hand).
    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    /// Which certificates the connection trusts.
    pub fn tls(&self) -> &RedisTls {
        &self.tls
    }

    /// A client for these settings (nothing is connected yet). The CA file is read now.
    pub fn client(&self) -> Result<redis::Client, ConnectError> {
        let mut info = self.info.clone();
        info.redis.password = self.password.as_ref().map(|p| p.expose_secret().to_owned());
        crate::tls::install_crypto_provider();
        let built = match &self.tls {
            RedisTls::CaFile(path) => {
                let pem = std::fs::read(path).map_err(|source| ConnectError::CaFile {
                    path: path.clone(),
                    source,
                })?;
                let certificates = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                redis::Client::build_with_tls(info, certificates)
            }
            RedisTls::Off | RedisTls::SystemRoots => redis::Client::open(info),
        };
        built.map_err(|source| ConnectError::InvalidUrl {
            url: self.to_string(),
            source,
        })
    }
}

/// `rediss://user@host:port/db`, without the password.
impl fmt::Display for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.info.addr {
            redis::ConnectionAddr::TcpTls { .. } => "rediss",
            redis::ConnectionAddr::Tcp(..) => "redis",
            redis::ConnectionAddr::Unix(_) => "redis+unix",
        };
        let user = self
            .info
            .redis
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        write!(
            f,
            "{scheme}://{user}{}/{}",
            self.info.addr, self.info.redis.db
        )
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.to_string())
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("tls", &self.tls)
            .finish()
    }
}

fn invalid(
    name: &str,
    value: &str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        source: source.into(),
    }
}

/// The local stack's certificate names only loopback addresses.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `url` with the password of its user-info (`user:password@`) replaced, for error messages.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:[redacted]{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// Why [`connect`] could not open a Redis connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The settings do not make a client (a `rediss://` URL the TLS settings do not fit, or a
    /// CA file that holds no certificate).
    #[error("Redis at {url}: invalid client settings")]
    InvalidUrl {
        /// The server, without the password.
        url: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// The CA file (`REDIS_CA_FILE`, or the local stack's) cannot be read.
    #[error("cannot read the Redis CA file {path:?}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The server did not answer the first connection (down, unreachable, its certificate not
    /// trusted, or it refused the credentials) within the connection manager's attempts.
    #[error("connecting to Redis at {url}")]
    Connect {
        /// The server, without the password.
        url: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
}

/// Opens a connection manager with `settings` (it reconnects by itself, within
/// [`RECONNECT_MAX_DELAY`] of the server's return), checking the server answers.
pub async fn connect(settings: &RedisSettings) -> Result<ConnectionManager, ConnectError> {
    let client = settings.client()?;
    if settings.tls == RedisTls::Off {
        tracing::warn!(redis = %settings, "Redis over plaintext TCP (REDIS_URL is redis://, not rediss://)");
    }
    let config = redis::aio::ConnectionManagerConfig::new()
        // The delay doubles from 1 s (the backoff's minimum) up to the cap.
        .set_factor(2)
        .set_max_delay(RECONNECT_MAX_DELAY.as_millis() as u64)
        .set_number_of_retries(RECONNECT_ATTEMPTS)
        .set_connection_timeout(CONNECT_TIMEOUT)
        .set_response_timeout(RESPONSE_TIMEOUT);
    ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|source| ConnectError::Connect {
            url: settings.to_string(),
            source,
        })
}

/// The writes one event causes, applied atomically with its inbox key.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RedisEffect {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
struct Step {
    #[serde(skip_serializing_if = "Option::is_none")]
    guard: Option<String>,
    commands: Vec<Vec<String>>,
}

impl RedisEffect {
    /// An effect that writes nothing (but still records the event in the inbox).
    pub fn new() -> Self {
        RedisEffect::default()
    }

    /// A command that always runs, e.g. `["HSET", "stock:SKU-1", "available", "7"]`.
    pub fn command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.steps.push(Step {
            guard: None,
            commands: vec![args.into_iter().map(|a| a.to_string()).collect()],
        });
        self
    }

    /// Commands that run only if `guard_key` did not exist yet (it is then created, with the
    /// inbox TTL): the effect happens at most once per guard key, whichever event causes it.
    pub fn once(mut self, guard_key: impl Into<String>, commands: Vec<Vec<String>>) -> Self {
        self.steps.push(Step {
            guard: Some(guard_key.into()),
            commands,
        });
        self
    }

    /// Whether the effect writes nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A handler for a Redis-backed service: reads through `conn` as it likes, and returns the
/// writes to apply.
#[async_trait]
pub trait RedisHandler: Send + Sync + 'static {
    /// The writes `event` causes, read through `conn` as needed; an error is classified (and
    /// retried or dead-lettered) as any handler's.
    async fn plan(
        &self,
        conn: &mut ConnectionManager,
        event: &Envelope,
    ) -> Result<RedisEffect, HandlerError>;
}

/// The key that records that `consumer` applied the event `event_id`:
/// `<key_prefix>inbox:<consumer>:<event_id>`.
pub fn inbox_key(key_prefix: &str, consumer: &str, event_id: impl fmt::Display) -> String {
    format!("{key_prefix}inbox:{consumer}:{event_id}")
}

/// Wraps a [`RedisHandler`] so that each event's effect is applied once per consumer.
pub struct RedisIdempotent<H> {
    conn: ConnectionManager,
    key_prefix: String,
    consumer: String,
    inbox_ttl: Duration,
    script: redis::Script,
    inner: H,
}

impl<H: RedisHandler> RedisIdempotent<H> {
    /// `inbox_ttl` is how long an applied event is remembered (and a guard key kept).
    pub fn new(
        conn: ConnectionManager,
        consumer: impl Into<String>,
        inbox_ttl: Duration,
        inner: H,
    ) -> Self {
        RedisIdempotent {
            conn,
            key_prefix: String::new(),
            consumer: consumer.into(),
            inbox_ttl,
            script: redis::Script::new(APPLY_SCRIPT),
            inner,
        }
    }

    /// Inbox keys under `key_prefix` (the service's own, e.g. `notification:`), instead of
    /// none.
    pub fn under(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }

    /// The key that records that this consumer applied `event` ([`inbox_key`]).
    pub fn inbox_key(&self, event: &Envelope) -> String {
        inbox_key(&self.key_prefix, &self.consumer, event.event_id)
    }
}

#[async_trait]
impl<H: RedisHandler> Handler for RedisIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let mut conn = self.conn.clone();
        let inbox_key = self.inbox_key(event);
        // No look at the inbox first: the script checks it atomically, and a duplicate (rare)
        // costs only the handler's reads, where a look would cost every event a round trip.
        let effect = self.inner.plan(&mut conn, event).await?;
        let steps = serde_json::to_string(&effect.steps).map_err(HandlerError::permanent)?;
        let applied: i64 = self
            .script
            .key(inbox_key)
            .arg(self.inbox_ttl.as_secs().max(1))
            .arg(steps)
            .invoke_async(&mut conn)
            .await?;
        Ok(if applied == 1 {
            Outcome::Applied
        } else {
            Outcome::Duplicate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Vars;

    #[test]
    fn settings_come_from_the_url_the_password_variables_and_the_local_stack() {
        let stack = LocalStack::at("/stack");
        let stack_password = stack.password_file("redis-notification");
        let read = |vars: &[(&str, &str)]| {
            let vars =
                Vars::new(vars.iter().copied()).with_file(&stack_password, "from-the-stack\n");
            RedisSettings::read_with(&Env::new(&vars), "notification", &stack)
        };
        let exposed = |s: &RedisSettings| s.password.as_ref().map(|p| p.expose_secret().to_owned());

        // Nothing set: the local stack over TLS, as the user, with its password and the CA.
        let local = read(&[]).unwrap();
        assert_eq!(local.to_string(), "rediss://notification@127.0.0.1:6379/0");
        assert_eq!(exposed(&local).as_deref(), Some("from-the-stack"));
        assert_eq!(local.tls(), &RedisTls::CaFile(stack.ca_file()));
        let debug = format!("{local:?}");
        assert!(!debug.contains("from-the-stack"), "{debug}");

        // A managed server: the password in the URL, the system's roots, never displayed.
        let url = ("REDIS_URL", "rediss://svc:s3cret@redis.example.com:6380/2");
        let managed = read(&[url]).unwrap();
        assert_eq!(exposed(&managed).as_deref(), Some("s3cret"));
        assert_eq!(managed.tls(), &RedisTls::SystemRoots);
        assert_eq!(managed.to_string(), "rediss://svc@redis.example.com:6380/2");
        assert!(!format!("{managed:?}").contains("s3cret"));

        // …and a password given twice is an error that does not show it.
        let twice = read(&[url, ("REDIS_PASSWORD", "other")]).unwrap_err();
        assert!(!format!("{twice:#}").contains("s3cret"), "{twice:#}");

        // REDIS_PASSWORD for the URL's user, REDIS_CA_FILE for its CA.
        let given = read(&[
            ("REDIS_URL", "rediss://svc@redis.example.com:6380"),
            ("REDIS_PASSWORD", "given"),
            ("REDIS_CA_FILE", "/etc/ca.pem"),
        ])
        .unwrap();
        assert_eq!(exposed(&given).as_deref(), Some("given"));
        assert_eq!(given.tls(), &RedisTls::CaFile("/etc/ca.pem".into()));

        // A user with no password anywhere: the error names the variable and the stack's file.
        let missing = read(&[("REDIS_URL", "rediss://billing@127.0.0.1:6379")]).unwrap_err();
        assert!(
            missing.to_string().contains("REDIS_PASSWORD")
                && missing.to_string().contains("redis-billing.password"),
            "{missing}"
        );

        // Plaintext has no TLS, and a CA file for it is a mistake said aloud.
        let plaintext = ("REDIS_URL", "redis://127.0.0.1:6390");
        let plain = read(&[plaintext]).unwrap();
        assert_eq!(plain.tls(), &RedisTls::Off);
        assert!(!plain.has_password() && plain.user().is_none());
        assert!(read(&[plaintext, ("REDIS_CA_FILE", "/etc/ca.pem")]).is_err());

        // An invalid URL is named without its password.
        let invalid = read(&[("REDIS_URL", "rediss://u:hunter2@host:notaport")]).unwrap_err();
        assert!(!format!("{invalid:?}").contains("hunter2"), "{invalid:?}");
    }

    #[test]
    fn only_loopback_hosts_default_to_the_local_ca() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["redis", "10.0.0.1", "redis.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn redacted_urls_keep_everything_but_the_password() {
        assert_eq!(
            redact_url("rediss://u:p@h:1/0"),
            "rediss://u:[redacted]@h:1/0"
        );
        assert_eq!(redact_url("rediss://u@h:1"), "rediss://u@h:1");
        assert_eq!(redact_url("rediss://h:1/a@b"), "rediss://h:1/a@b");
    }
}
