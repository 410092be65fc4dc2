//! Scenario 19: least privilege. The whole saga runs with security on (TLS and a principal per
//! service), then, with each service's own credentials, everything outside its rights is
//! attempted, and the broker (or the store) itself must refuse each attempt with an
//! authorization or authentication error. The table of refusals is printed.

use saga_tests::privilege::{kafka_anonymous_probes, kafka_probes, table, Breach, Refusal};
use shared_events::contracts::services::SERVICES;
use shared_events::kit::testing::redis_settings;

use crate::basic;
use crate::harness::Options;

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
    for resource in ["kafka", "redis"] {
        assert!(
            refused.iter().any(|r| r.resource == resource),
            "no {resource} refusal recorded"
        );
    }
}
