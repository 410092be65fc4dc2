//! Scenario 19: least privilege. The whole saga runs with security on (TLS and a principal per
//! service), then, with each service's own credentials, everything outside its rights is
//! attempted, and the broker (or the store) itself must refuse each attempt with an
//! authorization or authentication error: Kafka (every service), PostgreSQL (each service's
//! role), Redis (notification's user) and MongoDB (inventory's user). The table of refusals is
//! printed.

use saga_contracts::services::SERVICES;
use saga_messaging::postgres::connect_options;
use saga_messaging::testing::redis_settings;
use saga_tests::mongodb::STACK_SERVER_PLAIN;
use saga_tests::privilege::{kafka_anonymous_probes, kafka_probes, table, Breach, Probe, Refusal};

use crate::basic;
use crate::harness::{Options, Service, System};

/// The services on PostgreSQL in the default system, and the variable naming each's database.
const PG_SERVICES: [(Service, &str); 4] = [
    (Service::Customer, "DATABASE_URL"),
    (Service::Orders, "DATABASE_URL"),
    (Service::Inventory, "INVENTORY_STORE_URL"),
    (Service::Billing, "DATABASE_URL"),
];

/// PostgreSQL: each service's role, logged in as the service does (its URL, its password),
/// refused every other service's database of this run, plaintext, and administration.
async fn postgres_probes(sys: &System) -> Vec<Probe> {
    let urls: Vec<(&str, String)> = PG_SERVICES
        .iter()
        .map(|(service, variable)| {
            let url = sys
                .env(*service, variable)
                .unwrap_or_else(|| panic!("{} has no {variable}", service.name()));
            (service.name(), url)
        })
        .collect();
    let mut probes = Vec::new();
    for (who, url) in &urls {
        let own = connect_options(url).unwrap_or_else(|e| panic!("{who}'s URL: {e}"));
        let others: Vec<String> = urls
            .iter()
            .filter(|(w, _)| w != who)
            .map(|(_, u)| {
                connect_options(u)
                    .expect("a service's URL")
                    .get_database()
                    .expect("a URL naming its database")
                    .to_owned()
            })
            .collect();
        let others: Vec<&str> = others.iter().map(String::as_str).collect();
        match saga_tests::pg_refusals::all(&own, &others).await {
            Ok(refusals) => probes.extend(refusals.into_iter().map(|r| {
                Ok(Refusal {
                    who: (*who).to_owned(),
                    resource: "postgres",
                    attempt: r.attempt,
                    seen: format!("{} {}", r.code, r.message),
                })
            })),
            Err(failures) => probes.extend(failures.into_iter().map(|f| {
                Err(Breach {
                    who: (*who).to_owned(),
                    attempt: "postgres".into(),
                    outcome: f,
                })
            })),
        }
    }
    probes
}

/// MongoDB: inventory's user (as compose makes it: `readWrite` on its database alone) on the
/// stack's server, refused other databases, user administration, plaintext and bad logins.
async fn mongodb_probes() -> Vec<Probe> {
    match saga_tests::mongodb_rights::inventory_refusals(STACK_SERVER_PLAIN).await {
        Ok(rows) => rows
            .into_iter()
            .map(|r| {
                Ok(Refusal {
                    who: "inventory".into(),
                    resource: "mongodb",
                    attempt: r.attempt,
                    seen: r.error,
                })
            })
            .collect(),
        Err(e) => vec![Err(Breach {
            who: "inventory".into(),
            attempt: "mongodb".into(),
            outcome: format!("{e:#}"),
        })],
    }
}

/// s19. Every service's credentials, refused outside its rights; nothing open to anyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s19_least_privilege() {
    let sys = basic::happy_path(Options::default()).await;
    let mut probes = Vec::new();
    for service in SERVICES {
        probes.extend(kafka_probes(&sys.kafka, &service).await);
    }
    probes.extend(kafka_anonymous_probes(&sys.kafka.brokers).await);
    let kafka_rows = probes.len();
    // Redis: notification's own credentials outside its keys, commands and transport.
    let redis = saga_tests::redis_rights::redis_refusals(&redis_settings(), "notification:s19:")
        .await
        .map_err(|e| format!("{e:#}"));
    match redis {
        Ok(rows) => probes.extend(rows.into_iter().map(|r| {
            Ok(Refusal {
                who: "notification".into(),
                resource: "redis",
                attempt: r.attempt,
                seen: r.error,
            })
        })),
        Err(e) => probes.push(Err(Breach {
            who: "notification".into(),
            attempt: "redis".into(),
            outcome: e,
        })),
    }
    probes.extend(postgres_probes(&sys).await);
    probes.extend(mongodb_probes().await);
    let (refused, breaches): (Vec<_>, Vec<_>) = probes.into_iter().partition(Result::is_ok);
    let refused: Vec<Refusal> = refused.into_iter().map(Result::unwrap).collect();
    let breaches: Vec<Breach> = breaches.into_iter().map(|b| b.unwrap_err()).collect();
    eprintln!("e2e: least privilege, refusals seen:\n{}", table(&refused));
    assert!(
        breaches.is_empty(),
        "attempts outside a principal's rights that were not refused: {breaches:#?}"
    );
    assert_eq!(
        kafka_rows,
        5 * SERVICES.len() + 2,
        "one Kafka row per probe"
    );
    let postgres_rows = refused.iter().filter(|r| r.resource == "postgres").count();
    // Per role: the three other databases, then plaintext, CREATE DATABASE, CREATE ROLE and
    // pg_authid.
    assert_eq!(
        postgres_rows,
        PG_SERVICES.len() * (PG_SERVICES.len() - 1 + 4)
    );
    for resource in ["kafka", "redis", "postgres", "mongodb"] {
        assert!(
            refused.iter().any(|r| r.resource == resource),
            "no {resource} refusal recorded"
        );
    }
}
