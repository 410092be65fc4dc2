//! Scenarios 17 and 18: a network partition. One service (inventory, then billing) runs in a
//! network namespace of the test's own, joined to the host by a veth pair; a third of the way
//! into a burst the link is cut for 60 s, so that nothing the service sends arrives and nothing
//! answers it. Unlike a killed process or a stopped server, which refuse connections at once,
//! a partition leaves every client waiting on its own timeouts: librdkafka's socket and session
//! timeouts, the PostgreSQL pool's, TCP's retransmissions.
//!
//! The service reaches the rest of the system only over that link: the broker is one of the
//! test's own listening on the host's end of the link (so that the address it advertises is
//! reachable from both sides), and its PostgreSQL database, on the shared server, is reached
//! through a relay listening there too, as is the identity provider, whose signing keys it
//! fetches to verify the tests' tokens. Traffic goes only to the namespace's link and to
//! loopback.
//!
//! While the link is down the service's `/ready`, read from inside the namespace, must name
//! both the broker and PostgreSQL as failing. Once the link is back the service must be ready
//! again within [`READY_BOUND`], and its consumer groups caught up within [`CATCH_UP_BOUND`],
//! on its own: no restart. The scenario ends with the invariant checker and with every
//! dead-letter topic of the run empty.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::postgres::PgConnectOptions;

use super::faults::{burst_size, finish_burst, reasons, start_burst, wait_placed};
use super::groups;
use super::harness::{turn, Namespaced, Options, Service, System};
use super::kraft::KraftCluster;
use super::netns::Netns;
use super::outages::assert_no_dead_letters;
use super::relay::Relay;

/// How long the link is down.
const PARTITION: Duration = Duration::from_secs(60);

/// After the link is back, the service answers `/ready` with 200 within this, with no restart.
/// What it waits on is TCP's retransmission timer: a statement sent on a pooled connection
/// during the silence is retransmitted with a backoff that doubles from 200 ms (…, 25.6 s,
/// 51.2 s), so within a 60 s silence the next retransmission can be up to 51.2 s away, and
/// until it the connection stays checked out. When the pool is full of such connections the
/// readiness probe waits for one: in the runs here each service was ready once in about a
/// second and once after 54 s. librdkafka gives
/// up on a silent request after `socket.timeout.ms` (60 s) and on a connection attempt after
/// `socket.connection.setup.timeout.ms` (30 s), well within this too.
const READY_BOUND: Duration = Duration::from_secs(120);

/// After the link is back, the service's consumer groups have committed everything within
/// this: the same wait, then the group's rejoin and the backlog of a minute (seconds of work).
/// 59 to 63 s in the runs here.
const CATCH_UP_BOUND: Duration = Duration::from_secs(150);

/// The checks `/ready` reported failing while the link was down, with one failing body.
#[derive(Default)]
struct Seen {
    failing: BTreeSet<String>,
    body: Option<Value>,
    polls: usize,
}

/// Reads `/ready` from inside the namespace every 2 s for `length`, recording every check that
/// fails. The length is the scenario's input, not a wait for something to happen.
async fn hold_partition(net: &Arc<Netns>, url: &str, length: Duration) -> Seen {
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut said = Duration::ZERO;
    while started.elapsed() < length {
        let (net, url) = (net.clone(), url.to_owned());
        let (status, body) = tokio::task::spawn_blocking(move || net.http_get(&url))
            .await
            .expect("reading /ready in the namespace");
        seen.polls += 1;
        if let Ok(body) = serde_json::from_str::<Value>(&body) {
            if status == 503 {
                for (check, result) in body["checks"].as_object().into_iter().flatten() {
                    if result.as_str().is_some_and(|r| r.starts_with("error")) {
                        seen.failing.insert(check.clone());
                    }
                }
                seen.body.get_or_insert(body);
            }
        }
        if started.elapsed() >= said {
            eprintln!(
                "e2e: link down, {:.0}s to go; /ready has named {:?} failing",
                length.saturating_sub(started.elapsed()).as_secs_f64(),
                seen.failing
            );
            said += Duration::from_secs(15);
        }
        let pause = Duration::from_secs(2).min(length.saturating_sub(started.elapsed()));
        tokio::time::sleep(pause).await;
    }
    seen
}

/// The scenario for one service: `seed` seeds its burst.
async fn partition_mid_burst(service: Service, seed: u64) {
    let n = burst_size();
    let started = Instant::now();
    let turn = turn().await;
    let net = Arc::new(
        tokio::task::spawn_blocking(Netns::create)
            .await
            .expect("netns"),
    );
    let broker = KraftCluster::start(1, &net.host_addr).await;
    let shared: PgConnectOptions = saga_messaging::testing::admin_database_url()
        .parse()
        .expect("TEST_DATABASE_URL");
    let server = format!("{}:{}", shared.get_host(), shared.get_port());
    let relay = Relay::start(&net.host_addr, &server).await;
    // The identity provider, for the service's signing keys: its discovery document through a
    // relay of its own (Keycloak answers with backchannel URLs on the relay's address).
    let issuer = saga_kit::testing::identity::issuer();
    let provider: reqwest::Url = issuer.parse().expect("the issuer's URL");
    let keycloak = Relay::start(
        &net.host_addr,
        &format!(
            "{}:{}",
            provider.host_str().expect("the issuer's host"),
            provider.port_or_known_default().expect("the issuer's port")
        ),
    )
    .await;
    let sys = System::start_in(
        turn,
        Options {
            brokers: Some(broker.brokers()),
            namespaced: Some(Namespaced {
                service,
                netns: net.name.clone(),
                address: net.ns_addr.clone(),
                // The relay's address is not in the server's certificate, so the service cannot
                // verify it: TLS without verification (`require`). `verify-ca` would do, but
                // sqlx 0.8.6 with this rustls still checks the name under it (its
                // NoHostnameTlsVerifier misses rustls's NotValidForNameContext).
                rewrite: vec![
                    (server.clone(), relay.address()),
                    ("sslmode=verify-full".into(), "sslmode=require".into()),
                ],
                discovery_url: format!(
                    "http://{}{}/.well-known/openid-configuration",
                    keycloak.address(),
                    provider.path().trim_end_matches('/')
                ),
            }),
            ..Options::default()
        },
    )
    .await;
    let ready_url = format!("http://{}:{}/ready", net.ns_addr, sys.port(service));

    let (placed, burst) = start_burst(&sys.actor(), n, 10, seed).await;
    wait_placed(&placed, n / 3, &burst).await;
    eprintln!(
        "e2e: {} of {n} orders placed; cutting {}'s link",
        placed.load(Ordering::Relaxed),
        service.name()
    );
    net.cut();
    let seen = hold_partition(&net, &ready_url, PARTITION).await;
    net.restore();
    let back = Instant::now();
    eprintln!(
        "e2e: link restored after {:.0}s; /ready named {:?} failing ({} polls), e.g. {}",
        PARTITION.as_secs_f64(),
        seen.failing,
        seen.polls,
        seen.body.as_ref().map(Value::to_string).unwrap_or_default()
    );
    let expected: BTreeSet<String> = ["kafka", "postgres"].map(str::to_owned).into();
    assert_eq!(
        seen.failing,
        expected,
        "{}'s /ready, read in its namespace while the link was down, named these checks \
         failing (both its broker and its database were unreachable)",
        service.name()
    );
    assert_eq!(sys.exited(service), None, "{} exited", service.name());

    let api = sys.api.clone();
    let ready_in = saga_messaging::testing::wait_for(
        &format!("{} to be ready after the link's return", service.name()),
        READY_BOUND,
        || {
            let api = api.clone();
            async move { api.ready(service).await.then(|| back.elapsed()) }
        },
    )
    .await;
    eprintln!(
        "e2e: {} ready again {:.1}s after the link's return",
        service.name(),
        ready_in.as_secs_f64()
    );
    finish_burst(n, burst).await;
    let own: BTreeMap<String, Vec<String>> = groups::groups(&sys)
        .into_iter()
        .filter(|(g, _)| g.starts_with(&sys.kafka.group_id(service.name())))
        .collect();
    assert!(!own.is_empty(), "{}'s consumer groups", service.name());
    groups::wait_caught_up(
        &sys.kafka,
        &own,
        CATCH_UP_BOUND.saturating_sub(back.elapsed()),
    )
    .await;
    let caught_up = back.elapsed();
    eprintln!(
        "e2e: {}'s consumer groups caught up {:.1}s after the link's return",
        service.name(),
        caught_up.as_secs_f64()
    );
    let world = sys.check(Duration::from_secs(120)).await;
    assert_eq!(world.orders.len(), n);
    let dead = assert_no_dead_letters(&sys.kafka).await;
    eprintln!(
        "e2e: partition of {} with {n} orders took {:.1}s: /ready named {:?} while cut off, \
         ready {:.1}s and caught up {:.1}s after the link's return, {dead} dead letters, \
         invariants hold; outcomes {:?}",
        service.name(),
        started.elapsed().as_secs_f64(),
        seen.failing,
        ready_in.as_secs_f64(),
        caught_up.as_secs_f64(),
        reasons(&world)
    );
    drop(sys);
    drop(relay);
    drop(keycloak);
    drop(broker);
}

/// 17. Inventory behind a network partition of 60 s, mid-burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s17_inventory_partitioned_60s_mid_burst() {
    partition_mid_burst(Service::Inventory, 17).await;
}

/// 18. Billing behind a network partition of 60 s, mid-burst.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s18_billing_partitioned_60s_mid_burst() {
    partition_mid_burst(Service::Billing, 18).await;
}
