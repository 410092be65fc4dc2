//! A wait until a service has nothing more to emit: what lets a test show that it did *not*
//! emit something (a duplicate delivery that changed nothing, say).
//!
//! A service emits through its outbox, on two paths: an HTTP request writes its events in the
//! request's transaction, and the consumer writes them in the transaction of the event's
//! effect, before the event's offset is stored. So once its consumer group has caught up with
//! every topic it reads ([`super::lag`]) and its relay has confirmed to the outbox's
//! replication slot everything written until then ([`relayed`]), everything it was given has
//! been emitted and is on the broker; a reader of its topics read to their end
//! ([`super::read_to_end`]) has then seen all of it.

use std::time::Duration;

use sqlx::PgPool;

use super::lag::{wait_caught_up, Group};
use super::wait::wait_for;
use crate::config::KafkaConfig;
use crate::postgres::outbox_slot;
use saga_contracts::services::ServiceEvents;

/// Whether the relay of the PostgreSQL outbox at `pool` has confirmed to its replication slot
/// everything written to the server up to `lsn` (a `pg_lsn` as text): every event committed
/// before then is on the broker.
pub async fn relayed_up_to(pool: &PgPool, lsn: &str) -> bool {
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("the outbox's database");
    sqlx::query_scalar(
        "SELECT coalesce(confirmed_flush_lsn >= $2::pg_lsn, false) \
           FROM pg_replication_slots WHERE slot_name = $1",
    )
    .bind(outbox_slot(&database))
    .bind(lsn)
    .fetch_optional(pool)
    .await
    .expect("reading the outbox's slot")
    .unwrap_or(false)
}

/// Waits until the relay of the PostgreSQL outbox at `pool` has published every event
/// committed so far ([`relayed_up_to`] the server's current WAL position). Panics after
/// `timeout`.
pub async fn wait_relayed(pool: &PgPool, timeout: Duration) {
    let now: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(pool)
        .await
        .expect("the server's WAL position");
    wait_for(
        &format!("the outbox to be relayed up to {now}"),
        timeout,
        || async { relayed_up_to(pool, &now).await.then_some(()) },
    )
    .await;
}

/// Waits until `service` (its consumer group in `kafka`'s namespace, its PostgreSQL outbox
/// at `outbox`) has nothing more to emit: first its group has committed every event it was
/// given, then its relay has published everything committed by then. Panics after `timeout`
/// for either.
pub async fn wait_settled(
    kafka: &KafkaConfig,
    service: &ServiceEvents,
    outbox: &PgPool,
    timeout: Duration,
) {
    let group = Group::of_service(kafka, service);
    wait_caught_up(kafka, group.as_slice(), timeout).await;
    wait_relayed(outbox, timeout).await;
}
