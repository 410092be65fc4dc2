//! The tables the runtime keeps in each service's PostgreSQL database.
//!
//! `outbox` holds events written in the same transaction as the change that caused them;
//! `inbox` records each event a consumer has applied. Created idempotently at start-up, under an
//! advisory lock so that several instances starting at once do not race.

use sqlx::PgPool;

/// Advisory-lock class ids used by the runtime (two-key form, so no clash with services' locks).
pub(crate) const LOCK_CLASS_OUTBOX_KEY: i32 = 0x5345_0001;
pub(crate) const LOCK_CLASS_RELAY: i32 = 0x5345_0002;
const LOCK_CLASS_MIGRATE: i32 = 0x5345_0003;

pub(crate) const NOTIFY_CHANNEL: &str = "outbox";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS outbox (
    id          BIGSERIAL PRIMARY KEY,
    event_id    UUID NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    kafka_key   TEXT NOT NULL,
    payload     TEXT NOT NULL,
    traceparent TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    sent_at     TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE IF NOT EXISTS inbox (
    consumer     TEXT NOT NULL,
    event_id     UUID NOT NULL,
    event_type   TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Appends events to the outbox. Writers of one key are serialized by a transaction-scoped
-- advisory lock taken before the id is drawn, so the ids of a key follow commit order and the
-- relay, reading by id, publishes each key in order. Keys are locked in sorted order so that
-- two transactions never wait on each other in a cycle.
CREATE OR REPLACE FUNCTION outbox_enqueue(
    p_event_ids UUID[], p_event_types TEXT[], p_keys TEXT[], p_payloads TEXT[], p_traceparents TEXT[]
) RETURNS VOID LANGUAGE plpgsql AS $fn$
DECLARE
    k TEXT;
BEGIN
    FOR k IN SELECT DISTINCT x FROM unnest(p_keys) AS x ORDER BY x LOOP
        PERFORM pg_advisory_xact_lock(__LOCK_CLASS__, hashtext(k));
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        INSERT INTO outbox (event_id, event_type, kafka_key, payload, traceparent)
        VALUES (p_event_ids[i], p_event_types[i], p_keys[i], p_payloads[i], p_traceparents[i]);
    END LOOP;
    PERFORM pg_notify('__CHANNEL__', '');
END
$fn$;
"#;

/// Creates the outbox and inbox tables and the enqueue function if they are missing.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, 0)")
        .bind(LOCK_CLASS_MIGRATE)
        .execute(&mut *tx)
        .await?;
    let ddl = SCHEMA
        .replace("__LOCK_CLASS__", &LOCK_CLASS_OUTBOX_KEY.to_string())
        .replace("__CHANNEL__", NOTIFY_CHANNEL);
    sqlx::raw_sql(&ddl).execute(&mut *tx).await?;
    tx.commit().await
}
