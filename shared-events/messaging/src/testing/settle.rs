//! A wait until a service has nothing more to emit: what lets a test show that it did *not*
//! emit something (a duplicate delivery that changed nothing, say).
//!
//! A service emits through its outbox, on two paths: an HTTP request writes its events in the
//! request's transaction, and the consumer writes them in the transaction of the event's
//! effect, before the event's offset is stored. So once its consumer group has caught up with
//! every topic it reads ([`super::lag`]) and its outbox has no unsent record, everything it
//! was given has been emitted and is on the broker; a reader of its topics read to their end
//! ([`super::read_to_end`]) has then seen all of it.

use std::time::Duration;

use sqlx::PgPool;

use super::lag::{wait_caught_up, Group};
use super::wait::wait_for;
use crate::config::KafkaConfig;
use saga_contracts::services::ServiceEvents;

/// How many records the PostgreSQL outbox at `pool` holds that its relay has not marked sent.
pub async fn unsent(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(pool)
        .await
        .expect("counting the outbox's unsent records")
}

/// Waits until `service` (its consumer group in `kafka`'s namespace, its PostgreSQL outbox
/// at `outbox`) has nothing more to emit: first its group has committed every event it was
/// given, then its outbox is empty. Panics after `timeout` for either.
pub async fn wait_settled(
    kafka: &KafkaConfig,
    service: &ServiceEvents,
    outbox: &PgPool,
    timeout: Duration,
) {
    let group = Group::of_service(kafka, service);
    wait_caught_up(kafka, group.as_slice(), timeout).await;
    wait_for(
        &format!("{}'s outbox to be sent", service.name),
        timeout,
        || async { (unsent(outbox).await == 0).then_some(()) },
    )
    .await;
}
