//! The Redis idempotent step against the real local Redis: the inbox key, the guarded
//! once-per-key effect, and concurrent deliveries of one event. The step runs as notification's
//! ACL user, under its key prefix, over TLS (its script and its writes need no other right);
//! the tests read back as the operator.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use saga_contracts::events::OrderCancelled;
use saga_contracts::{Envelope, EventPayload};
use saga_messaging::redis_store::{RedisEffect, RedisHandler, RedisIdempotent};
use saga_messaging::testing::{
    delete_keys_blocking, redis_admin_settings, redis_connection, redis_server_command,
    redis_settings,
};
use saga_messaging::{Handler, HandlerError, Outcome};
use uuid::Uuid;

/// Adds every event to a log list, and a notification once per order (with LPUSH, a command
/// notification's ACL user has).
struct Notifier {
    ns: String,
}

#[async_trait]
impl RedisHandler for Notifier {
    async fn plan(
        &self,
        _conn: &mut ConnectionManager,
        event: &Envelope,
    ) -> Result<RedisEffect, HandlerError> {
        let EventPayload::OrderCancelled(c) = &event.payload else {
            unreachable!()
        };
        let ns = &self.ns;
        Ok(RedisEffect::new()
            .command(["LPUSH", &format!("{ns}:log"), &event.event_id.to_string()])
            .once(
                format!("{ns}:once:{}:order_cancelled", c.order_id),
                vec![vec![
                    "LPUSH".into(),
                    format!("{ns}:notifications"),
                    c.order_id.to_string(),
                ]],
            ))
    }
}

/// Notification's connection, and the operator's.
async fn connect() -> (ConnectionManager, ConnectionManager) {
    (
        redis_connection(&redis_settings()).await,
        redis_connection(&redis_admin_settings()).await,
    )
}

/// A namespace of the test's own under notification's prefix; its keys go when it drops.
struct Ns(String);

impl Ns {
    fn new() -> Ns {
        Ns(format!("notification:test:{}", Uuid::new_v4().simple()))
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Err(e) = delete_keys_blocking(&self.0) {
            eprintln!("could not delete the test's keys {}*: {e}", self.0);
        }
    }
}

async fn len(conn: &mut ConnectionManager, key: &str) -> i64 {
    redis::cmd("LLEN").arg(key).query_async(conn).await.unwrap()
}

fn cancelled(order_id: Uuid) -> Envelope {
    Envelope::new(
        "test",
        OrderCancelled {
            order_id,
            customer_id: Uuid::nil(),
            reason: "timeout".into(),
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn effects_apply_once_per_event_and_guards_once_per_key() {
    let (service, mut conn) = connect().await;
    let keys = Ns::new();
    let ns = &keys.0;
    let handler = RedisIdempotent::new(
        service,
        "consumer",
        Duration::from_secs(600),
        Notifier { ns: ns.clone() },
    )
    .under(format!("{ns}:"));
    let order = Uuid::now_v7();
    let first = cancelled(order);
    assert_eq!(handler.handle(&first).await.unwrap(), Outcome::Applied);
    assert_eq!(handler.handle(&first).await.unwrap(), Outcome::Duplicate);
    assert_eq!(len(&mut conn, &format!("{ns}:log")).await, 1);

    // Another event about the same order: logged, but the guarded notification is not repeated.
    let second = cancelled(order);
    assert_eq!(handler.handle(&second).await.unwrap(), Outcome::Applied);
    assert_eq!(len(&mut conn, &format!("{ns}:log")).await, 2);
    assert_eq!(len(&mut conn, &format!("{ns}:notifications")).await, 1);

    // The inbox key expires with the configured TTL.
    let ttl: i64 = redis::cmd("TTL")
        .arg(handler.inbox_key(&first))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((590..=600).contains(&ttl), "ttl {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_event_apply_it_once() {
    let (service, mut conn) = connect().await;
    let keys = Ns::new();
    let ns = &keys.0;
    let handler = std::sync::Arc::new(
        RedisIdempotent::new(
            service,
            "consumer",
            Duration::from_secs(600),
            Notifier { ns: ns.clone() },
        )
        .under(format!("{ns}:")),
    );
    let event = cancelled(Uuid::now_v7());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (h, e) = (handler.clone(), event.clone());
        tasks.push(tokio::spawn(async move { h.handle(&e).await.unwrap() }));
    }
    let mut applied = 0;
    for t in tasks {
        if t.await.unwrap() == Outcome::Applied {
            applied += 1;
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(len(&mut conn, &format!("{ns}:log")).await, 1);
}

/// A `redis-server` of the test's own on a free port, without persistence, so that the test
/// can stop it without disturbing the shared one; TLS only, with the stack's ACL users.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = redis_server_command(port, &std::env::temp_dir())
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("starting redis-server (scripts/stack up installs it)");
        OwnRedis { port, child }
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `SET` through `conn`, given at most 3 s.
async fn set_soon(conn: &mut ConnectionManager) -> Result<(), String> {
    let mut set = redis::cmd("SET");
    set.arg("notification:reconnect-test").arg("v");
    let command = set.query_async::<()>(conn);
    match tokio::time::timeout(Duration::from_secs(3), command).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("no answer within 3 s".into()),
    }
}

/// The connection that `redis_store::connect` opens reconnects within seconds of Redis's
/// return after an outage. (With the connection manager's defaults the second attempt waited a
/// minute, so commands kept failing long after the server was back.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_within_seconds_once_redis_is_back() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = OwnRedis::start(port);
    // Notification's user and TLS, on the test's own server.
    let settings = redis_settings().on_port(port);
    let mut conn = saga_messaging::testing::wait_for(
        "the test's own Redis to answer",
        Duration::from_secs(20),
        || {
            let settings = settings.clone();
            async move { saga_messaging::redis_store::connect(&settings).await.ok() }
        },
    )
    .await;
    set_soon(&mut conn).await.expect("a SET while Redis is up");

    let port = redis.stop();
    // Commands during the outage fail, in bounded time, and start the reconnection attempts
    // that the server's return must not have to outwait. The pauses between them are the
    // outage's length (long enough for those attempts to back off), not a wait for anything.
    for _ in 0..3 {
        assert!(set_soon(&mut conn).await.is_err(), "a SET with Redis down");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _redis = OwnRedis::start(port);
    let back = std::time::Instant::now();
    saga_messaging::testing::wait_for(
        "a SET to succeed after Redis is back",
        Duration::from_secs(15),
        || {
            let mut conn = conn.clone();
            async move { set_soon(&mut conn).await.ok() }
        },
    )
    .await;
    eprintln!(
        "redis: commands succeed again {:.1}s after the server is back",
        back.elapsed().as_secs_f64()
    );
}
