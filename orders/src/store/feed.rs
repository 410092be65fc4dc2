//! The saga feed: every history row (one per saga event an order has seen or emitted) as a
//! transition, in an order a reader can resume from without missing a row.
//!
//! Rows are read in `(xid, seq)` order, and only those written by transactions older than every
//! transaction still running (`xid` below the snapshot's `xmin`). Such a row is either visible
//! now or never will be, so a [`Cursor`] never passes a row that appears later; see
//! `migrations/0002_saga_feed.sql`. A long transaction elsewhere in the cluster delays the feed
//! for as long as it runs, and loses nothing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use saga_contracts::Money;
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::read::money_of;
use super::StoreError;
use crate::domain::Status;

/// Where a reader of the feed is: the last row it has, as `(xid, seq)`. Written `xid-seq`, which
/// is the SSE event id and what `Last-Event-ID` sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    /// The writing transaction's id (`xid8`), which orders rows by commit horizon.
    pub xid: u64,
    /// The row's sequence number, which orders rows of one transaction.
    pub seq: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.xid, self.seq)
    }
}

/// A `Last-Event-ID` that is not `xid-seq`.
#[derive(Debug, thiserror::Error)]
#[error("expected <xid>-<seq>, two non-negative integers, as sent in the feed's ids")]
pub struct BadCursor;

impl FromStr for Cursor {
    type Err = BadCursor;

    /// Exactly `<digits>-<digits>`, as the feed writes it: no sign, no spaces (Rust's integer
    /// parsing alone would take `+1-+2`, which the OpenAPI document's pattern refuses).
    fn from_str(s: &str) -> Result<Cursor, BadCursor> {
        let (xid, seq) = s.split_once('-').ok_or(BadCursor)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(xid) || !digits(seq) {
            return Err(BadCursor);
        }
        let xid = xid.parse().map_err(|_| BadCursor)?;
        let seq: i64 = seq.parse().map_err(|_| BadCursor)?;
        Ok(Cursor { xid, seq })
    }
}

/// One saga transition: an event an order saw or emitted, and the order's status after it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transition {
    /// The feed position, <xid>-<seq>: the SSE id, so a client can tell what it has seen.
    pub id: String,
    /// The order it happened to.
    pub order_id: Uuid,
    /// Who placed that order.
    pub customer_id: Uuid,
    /// The order's total, so a client can show an order it first learns of from the feed.
    pub total: Money,
    /// The saga event (`stock.reserved`...).
    #[schema(example = "stock.reserved")]
    pub event_type: String,
    /// The order's status right after this event.
    #[schema(value_type = Status, inline)]
    pub status: String,
    /// Why the order was cancelled, once it is.
    #[schema(required)]
    pub reason: Option<String>,
    /// When the event was seen or emitted.
    pub at: DateTime<Utc>,
    /// When the order was placed: with `at`, the time from the start of its saga.
    pub created_at: DateTime<Utc>,
    /// `id` parsed, for the reader to carry on from.
    #[serde(skip)]
    pub cursor: Cursor,
}

/// The end of the feed as it stands: a reader starting here sees only what happens next.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn tail(pool: &PgPool) -> Result<Cursor, StoreError> {
    let row = sqlx::query(
        "SELECT xid::text AS xid, seq FROM order_history \
         WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) \
         ORDER BY xid DESC, seq DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(cursor_of(&row)?),
        None => Ok(Cursor::default()),
    }
}

/// Up to `limit` transitions after `cursor`, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(%cursor))]
pub async fn after(
    pool: &PgPool,
    cursor: Cursor,
    limit: i64,
) -> Result<Vec<Transition>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.xid::text AS xid, h.seq, h.order_id, h.event_type, h.at, h.status, h.reason, \
                o.customer_id, o.total, o.created_at, o.status AS order_status, \
                o.reason AS order_reason \
         FROM order_history h JOIN orders o ON o.id = h.order_id \
         WHERE (h.xid, h.seq) > ($1::text::xid8, $2) \
           AND h.xid < pg_snapshot_xmin(pg_current_snapshot()) \
         ORDER BY h.xid, h.seq LIMIT $3",
    )
    .bind(cursor.xid.to_string())
    .bind(cursor.seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(transition_of).collect::<Result<_, _>>()?)
}

fn cursor_of(row: &sqlx::postgres::PgRow) -> Result<Cursor, sqlx::Error> {
    let xid: String = row.try_get("xid")?;
    Ok(Cursor {
        xid: xid.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        seq: row.try_get("seq")?,
    })
}

fn transition_of(row: &sqlx::postgres::PgRow) -> Result<Transition, sqlx::Error> {
    let cursor = cursor_of(row)?;
    // Rows written before the feed existed carry no status: the order's own stands in.
    let status: Option<String> = row.try_get("status")?;
    let (status, reason) = match status {
        Some(status) => (status, row.try_get("reason")?),
        None => (row.try_get("order_status")?, row.try_get("order_reason")?),
    };
    Ok(Transition {
        id: cursor.to_string(),
        order_id: row.try_get("order_id")?,
        customer_id: row.try_get("customer_id")?,
        total: money_of(row.try_get("total")?)?,
        event_type: row.try_get("event_type")?,
        status,
        reason,
        at: row.try_get("at")?,
        created_at: row.try_get("created_at")?,
        cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_order_by_transaction_first() {
        let c: Cursor = "812-77".parse().unwrap();
        assert_eq!(c, Cursor { xid: 812, seq: 77 });
        assert_eq!(c.to_string(), "812-77");
        assert!(Cursor { xid: 813, seq: 1 } > c);
        assert!(Cursor { xid: 812, seq: 78 } > c);
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for bad in [
            "",
            "12",
            "a-1",
            "1-b",
            "1--2",
            "-1-2",
            "1-2-3",
            "+1-2",
            "1-+2",
            " 1-2",
            "1-2 ",
            "99999999999999999999-1",
        ] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?} parsed");
        }
    }
}
