//! The outbox's replication slot: its name, making it, and what `/ready` and `/metrics` say
//! about it.
//!
//! Each service database has one logical replication slot, `outbox_<database>`, on the
//! built-in `pgoutput` plugin. The outbox writes its events into the write-ahead log
//! ([`super::schema`]), and the slot keeps every one of them until the relay confirms it
//! ([`super::outbox`]). A relay that is down makes the slot hold WAL back: PostgreSQL's
//! `max_slot_wal_keep_size` bounds that (past it the slot is lost, and with it the events it
//! held), so the service reports itself not ready well before, at [`LAG_LIMIT_BYTES`].

use sqlx::{PgConnection, PgPool};

/// The publication the slot is read through. It names no table: the outbox's events are
/// logical decoding messages, which `pgoutput` sends whatever the publication holds.
pub const PUBLICATION: &str = "saga_outbox";

/// The prefix of the outbox's logical decoding messages.
pub const MESSAGE_PREFIX: &str = "saga.outbox";

/// How far behind the write-ahead log the relay may fall before the service says it is not
/// ready (`/ready`'s `postgres` check): half of the stack's `max_slot_wal_keep_size`.
pub const LAG_LIMIT_BYTES: i64 = 1 << 30;

/// The slot of database `database`: `outbox_` and the name, lower-cased, with every character
/// a slot name may not hold (only `a-z`, `0-9` and `_` are allowed) replaced by `_`, cut to
/// PostgreSQL's 63 bytes.
pub fn outbox_slot(database: &str) -> String {
    let mut name: String = format!("outbox_{database}")
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect();
    name.truncate(63);
    name
}

/// Creates the slot of the connection's database unless it exists. Runs outside any
/// transaction (PostgreSQL will not make a logical slot in one that wrote), and before the
/// outbox's first event: what is written before the slot exists is not in it.
pub(crate) async fn ensure_slot(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let slot = outbox_slot(&current_database(conn).await?);
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
    )
    .bind(&slot)
    .fetch_one(&mut *conn)
    .await?;
    if exists {
        return Ok(());
    }
    let made = sqlx::query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')")
        .bind(&slot)
        .execute(&mut *conn)
        .await;
    match made {
        Ok(_) => {
            tracing::info!(slot = %slot, "outbox: made the replication slot");
            Ok(())
        }
        // Another instance made it in between.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42710") => Ok(()),
        Err(e) => Err(e),
    }
}

async fn current_database(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT current_database()")
        .fetch_one(conn)
        .await
}

/// The outbox slot as PostgreSQL sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStatus {
    /// The slot's name.
    pub slot: String,
    /// Whether a relay streams from it now.
    pub streaming: bool,
    /// How many bytes of WAL the relay has yet to confirm (from the server's current position
    /// to the slot's `confirmed_flush_lsn`).
    pub lag_bytes: i64,
    /// PostgreSQL dropped the WAL the slot held (`wal_status = 'lost'`): events are gone.
    pub lost: bool,
}

/// The status of the pool's database's outbox slot, or `None` if it has none.
pub async fn slot_status(pool: &PgPool) -> Result<Option<SlotStatus>, sqlx::Error> {
    let row: Option<(String, bool, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT slot_name::text, active, \
                (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint, wal_status \
           FROM pg_replication_slots WHERE slot_name = $1",
    )
    .bind(outbox_slot(&pool_database(pool).await?))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(slot, streaming, lag, wal_status)| SlotStatus {
        slot,
        streaming,
        lag_bytes: lag.unwrap_or(0).max(0),
        lost: wal_status.as_deref() == Some("lost"),
    }))
}

async fn pool_database(pool: &PgPool) -> Result<String, sqlx::Error> {
    match pool.connect_options().get_database() {
        Some(name) => Ok(name.to_owned()),
        None => {
            sqlx::query_scalar("SELECT current_database()")
                .fetch_one(pool)
                .await
        }
    }
}

/// Whether the outbox can take events and have them relayed: its slot exists, has not lost
/// WAL, and its relay is less than [`LAG_LIMIT_BYTES`] behind. The reason when not.
pub async fn outbox_ready(pool: &PgPool) -> Result<(), String> {
    match slot_status(pool).await.map_err(|e| e.to_string())? {
        None => Err("the outbox has no replication slot".into()),
        Some(s) if s.lost => Err(format!(
            "the outbox's replication slot {} lost WAL (max_slot_wal_keep_size)",
            s.slot
        )),
        Some(s) if s.lag_bytes > LAG_LIMIT_BYTES => Err(format!(
            "the outbox relay is {} MiB behind (limit {} MiB)",
            s.lag_bytes >> 20,
            LAG_LIMIT_BYTES >> 20
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_name_holds_only_what_postgres_allows_and_fits() {
        assert_eq!(outbox_slot("orders"), "outbox_orders");
        assert_eq!(outbox_slot("My-DB.1"), "outbox_my_db_1");
        let long = outbox_slot(&"x".repeat(100));
        assert_eq!(long.len(), 63);
        assert!(long.starts_with("outbox_"));
    }
}
