//! What the runtime keeps in each service's PostgreSQL database.
//!
//! - the outbox's replication slot ([`super::slot`]) and the publication it is read through;
//! - `outbox_enqueue`, which writes events into the write-ahead log as logical decoding
//!   messages ([`super::outbox`]);
//! - `inbox`, which records each event a consumer has applied.
//!
//! Made idempotently at start-up, the DDL under an advisory lock so that several instances
//! starting at once do not race. A database from before the outbox moved to the log still
//! has an `outbox` table: its unsent rows are written to the log, in order, and it is dropped.

use sqlx::{Acquire, PgPool};

use super::slot::{ensure_slot, MESSAGE_PREFIX, PUBLICATION};

/// Advisory-lock class id of the migration (two-key form, so no clash with services' locks).
const LOCK_CLASS_MIGRATE: i32 = 0x5345_0003;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS inbox (
    consumer     TEXT NOT NULL,
    event_id     UUID NOT NULL,
    event_type   TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The slot is read through a publication; this one names no table, since the events are
-- messages, which pgoutput sends whatever the publication holds.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = '__PUBLICATION__') THEN
        CREATE PUBLICATION __PUBLICATION__;
    END IF;
END
$do$;

-- One event into the write-ahead log: a transactional message, so it is decoded only if,
-- and when, the writing transaction commits. Its content is a header line of JSON, then the
-- envelope.
CREATE OR REPLACE FUNCTION outbox_message(
    p_event_id UUID, p_event_type TEXT, p_key TEXT, p_payload TEXT, p_traceparent TEXT
) RETURNS VOID LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_logical_emit_message(
        true, '__PREFIX__',
        json_build_object('id', p_event_id, 'type', p_event_type, 'key', p_key,
                          'trace', p_traceparent)::text || E'\n' || p_payload);
END
$fn$;

-- Appends events to the outbox, in the order given. Logical decoding hands out the events of
-- one transaction in this order, and transactions in commit order, so each key's events reach
-- the relay in the order their transactions committed: no lock is needed.
CREATE OR REPLACE FUNCTION outbox_enqueue(
    p_event_ids UUID[], p_event_types TEXT[], p_keys TEXT[], p_payloads TEXT[], p_traceparents TEXT[]
) RETURNS VOID LANGUAGE plpgsql AS $fn$
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        PERFORM outbox_message(p_event_ids[i], p_event_types[i], p_keys[i], p_payloads[i],
                               p_traceparents[i]);
    END LOOP;
END
$fn$;

-- The outbox table of earlier versions: what it had not sent goes to the log, then it goes.
DO $do$
DECLARE
    r RECORD;
BEGIN
    IF to_regclass('outbox') IS NOT NULL THEN
        FOR r IN SELECT event_id, event_type, kafka_key, payload, traceparent
                   FROM outbox WHERE sent_at IS NULL ORDER BY id LOOP
            PERFORM outbox_message(r.event_id, r.event_type, r.kafka_key, r.payload,
                                   r.traceparent);
        END LOOP;
        DROP TABLE outbox;
    END IF;
END
$do$;
"#;

/// Makes the outbox's slot, then (in one transaction) the inbox table, the publication and
/// the enqueue functions, if they are missing. The slot comes first: an event written before
/// it exists would not be in it.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    ensure_slot(&mut conn).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
        .bind(LOCK_CLASS_MIGRATE)
        .execute(&mut *tx)
        .await?;
    let ddl = SCHEMA
        .replace("__PUBLICATION__", PUBLICATION)
        .replace("__PREFIX__", MESSAGE_PREFIX);
    sqlx::raw_sql(&ddl).execute(&mut *tx).await?;
    tx.commit().await
}
