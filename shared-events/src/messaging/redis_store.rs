//! The idempotent-consumer step for Redis: inbox key, de-duplication guards and the effect,
//! applied by one Lua script, which Redis runs atomically.
//!
//! A [`RedisHandler`] may read what it needs first, then returns a [`RedisEffect`]: a list of
//! write commands, optionally grouped under a guard (`SET <key> 1 NX`) so that a group runs at
//! most once per guard key (e.g. one notification per order and kind). The script sets the inbox
//! key `inbox:<consumer>:<event_id>` with `NX`; if it existed, the event is a duplicate and
//! nothing else happens.
//!
//! Inbox keys expire (after the handler's inbox TTL); guard keys never do. A broker may keep
//! records for longer than any TTL, and a replay of them after the inbox keys are gone must
//! still find the guards. A guard is one small key per thing done once (an order and a kind,
//! say).
//!
//! Redis has no rollback: a command that fails inside the script (a type error) leaves the
//! earlier writes in place. Effects should therefore only use commands that cannot fail on
//! well-typed keys, which is what the handlers of this system do.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use serde::Serialize;

use crate::contracts::envelope::Envelope;
use crate::messaging::consumer::{Handler, HandlerError, Outcome};

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

/// Why [`connect`] could not open a Redis connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `REDIS_URL` is not a Redis URL (a wrong scheme, a malformed host or port).
    #[error("REDIS_URL {url:?} is invalid")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// The server did not answer the first connection (down, unreachable, or it refused the
    /// credentials) within the connection manager's attempts.
    #[error("connecting to Redis at {url}")]
    Connect {
        /// The URL given.
        url: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
}

/// Opens a connection manager on `url` (it reconnects by itself, within
/// [`RECONNECT_MAX_DELAY`] of the server's return), checking the server answers.
pub async fn connect(url: &str) -> Result<ConnectionManager, ConnectError> {
    let client = redis::Client::open(url).map_err(|source| ConnectError::InvalidUrl {
        url: url.to_owned(),
        source,
    })?;
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
            url: url.to_owned(),
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

/// Wraps a [`RedisHandler`] so that each event's effect is applied once per consumer.
pub struct RedisIdempotent<H> {
    conn: ConnectionManager,
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
            consumer: consumer.into(),
            inbox_ttl,
            script: redis::Script::new(APPLY_SCRIPT),
            inner,
        }
    }

    /// The key that records that this consumer applied `event`: `inbox:<consumer>:<event_id>`.
    pub fn inbox_key(&self, event: &Envelope) -> String {
        format!("inbox:{}:{}", self.consumer, event.event_id)
    }
}

#[async_trait]
impl<H: RedisHandler> Handler for RedisIdempotent<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let mut conn = self.conn.clone();
        let inbox_key = self.inbox_key(event);
        // Skip the handler's reads for a known duplicate; the script re-checks atomically.
        let seen: bool = redis::cmd("EXISTS")
            .arg(&inbox_key)
            .query_async(&mut conn)
            .await?;
        if seen {
            return Ok(Outcome::Duplicate);
        }
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
