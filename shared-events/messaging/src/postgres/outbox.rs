//! Writing to the PostgreSQL outbox, and reading it for the relay.
//!
//! The outbox is the write-ahead log. `outbox_enqueue` ([`super::schema`]) writes each event as
//! a transactional logical decoding message (`pg_logical_emit_message(true, 'saga.outbox',
//! ...)`): it is in the log if and only if the writing transaction commits, and logical
//! decoding hands it out in commit order. The relay ([`PgOutboxStore`]) follows the
//! database's replication slot ([`super::slot`]), which only one session may stream at a time.
//! So commit order, and with it each key's order, comes with no lock, no lease, no row to
//! mark sent and none to delete: the relay confirms a transaction's end to the slot once every
//! event in it is published, and PostgreSQL may then recycle that WAL.
//!
//! A transaction's events are handed out only once the transaction is visible to the
//! database's readers ([`super::visibility`]): its answer may come back to this service, which
//! must then find what the transaction wrote.
//!
//! A message is the event's header, one line of JSON (`id`, `type`, `key`, `trace`), then a
//! newline and the envelope's JSON as it is published.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::replication::ReplicationSource;
use super::slot::{outbox_slot, MESSAGE_PREFIX, PUBLICATION};
use super::visibility::Snapshot;
use crate::metrics;
use crate::outbox::{OutboxRecord, OutboxStore};
use saga_contracts::envelope::Envelope;

/// Appends `event` to the outbox inside the caller's transaction. Nothing is published unless
/// that transaction commits.
pub async fn enqueue(conn: &mut PgConnection, event: &Envelope) -> Result<(), sqlx::Error> {
    enqueue_all(conn, std::slice::from_ref(event)).await
}

/// Appends several events in one round trip, in the given order.
pub async fn enqueue_all(conn: &mut PgConnection, events: &[Envelope]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    OutboxBatch::of(events)
        .bind(sqlx::query(&format!("SELECT {}", OutboxBatch::call(1))))
        .execute(conn)
        .await?;
    Ok(())
}

/// Events as the five arrays `outbox_enqueue` takes, so that a statement of a service's own
/// can append them in the same round trip as its other writes (a single statement is atomic
/// on its own, so such a step needs no transaction around it).
pub struct OutboxBatch {
    /// The events' ids, their inbox keys downstream.
    ids: Vec<Uuid>,
    /// Their types, which name their topics.
    types: Vec<&'static str>,
    /// Their Kafka keys.
    keys: Vec<String>,
    /// The envelopes as JSON.
    payloads: Vec<String>,
    /// Their W3C trace parents, if any.
    traces: Vec<Option<String>>,
}

impl OutboxBatch {
    /// The batch of `events`, in the order given.
    pub fn of(events: &[Envelope]) -> OutboxBatch {
        OutboxBatch {
            ids: events.iter().map(|e| e.event_id).collect(),
            types: events.iter().map(|e| e.event_type().as_str()).collect(),
            keys: events.iter().map(Envelope::key).collect(),
            payloads: events
                .iter()
                .map(|e| String::from_utf8(e.to_json()).expect("JSON is UTF-8"))
                .collect(),
            traces: events
                .iter()
                .map(|e| e.traceparent.map(|t| t.to_string()))
                .collect(),
        }
    }

    /// The SQL call for the five parameters from `$first` on, e.g.
    /// `outbox_enqueue($6, $7, $8, $9, $10)`.
    pub fn call(first: usize) -> String {
        let p: Vec<String> = (first..first + 5).map(|i| format!("${i}")).collect();
        format!("outbox_enqueue({})", p.join(", "))
    }

    /// Binds the five arrays, in [`call`](Self::call)'s order, as the next parameters.
    pub fn bind(
        self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(self.ids)
            .bind(self.types)
            .bind(self.keys)
            .bind(self.payloads)
            .bind(self.traces)
    }
}

/// The header line of an outbox message.
#[derive(serde::Deserialize)]
struct Header {
    id: Uuid,
    #[serde(rename = "type")]
    event_type: String,
    key: String,
    trace: Option<String>,
}

/// The record of the outbox message at `lsn` with `content`, committed at `committed_at`.
fn decode(
    lsn: u64,
    content: &[u8],
    committed_at: DateTime<Utc>,
) -> anyhow::Result<OutboxRecord<u64>> {
    let newline = content
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| anyhow::anyhow!("outbox message at {} has no header line", Lsn(lsn)))?;
    let header: Header = serde_json::from_slice(&content[..newline])
        .map_err(|e| anyhow::anyhow!("outbox message at {}: bad header: {e}", Lsn(lsn)))?;
    Ok(OutboxRecord {
        id: lsn,
        event_id: header.id,
        event_type: header.event_type,
        key: header.key,
        payload: content[newline + 1..].to_vec(),
        traceparent: header.trace,
        created_at: committed_at,
    })
}

/// PostgreSQL's epoch (2000-01-01) in microseconds as a time.
fn pg_time(micros: i64) -> DateTime<Utc> {
    const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
    DateTime::from_timestamp_micros(PG_EPOCH_UNIX_MICROS + micros).unwrap_or_else(Utc::now)
}

/// A received event, not yet confirmed to the slot.
struct Pending {
    record: OutboxRecord<u64>,
    /// The end of its transaction's commit record: what the slot is told once every event of
    /// the transaction is published.
    commit_end: u64,
    /// Its transaction's id.
    xid: u32,
    /// Whether a snapshot has seen its transaction completed (so it may be published).
    visible: bool,
    marked: bool,
}

/// The events of a transaction whose commit has not arrived yet.
struct Open {
    xid: u32,
    committed_at: DateTime<Utc>,
    records: Vec<OutboxRecord<u64>>,
}

/// A live replication stream and what it delivered.
struct Stream {
    client: ReplicationClient,
    /// Committed events not yet confirmed, in commit order.
    pending: VecDeque<Pending>,
    /// The transaction being received.
    open: Option<Open>,
    /// What the slot was last told.
    confirmed: u64,
    /// The server's end of WAL as last reported.
    server_end: u64,
}

impl Stream {
    fn confirm(&mut self, lsn: u64) {
        if lsn > self.confirmed {
            self.confirmed = lsn;
            self.client.update_applied_lsn(Lsn(lsn));
        }
        metrics::OUTBOX_RELAY_LAG_BYTES.set(self.server_end.saturating_sub(self.confirmed) as i64);
    }

    /// Takes in one event of the stream.
    fn take(&mut self, event: ReplicationEvent) -> anyhow::Result<()> {
        match event {
            ReplicationEvent::Begin {
                commit_time_micros,
                xid,
                ..
            } => {
                self.open = Some(Open {
                    xid,
                    committed_at: pg_time(commit_time_micros),
                    records: Vec::new(),
                });
            }
            ReplicationEvent::Message {
                transactional: true,
                lsn,
                prefix,
                content,
            } if prefix == MESSAGE_PREFIX => {
                let open = self
                    .open
                    .as_mut()
                    .ok_or_else(|| anyhow::anyhow!("an outbox message outside a transaction"))?;
                let record = decode(lsn.as_u64(), &content, open.committed_at)?;
                open.records.push(record);
            }
            ReplicationEvent::Message { .. } | ReplicationEvent::XLogData { .. } => {}
            ReplicationEvent::Commit { end_lsn, .. } => {
                let (xid, records) = match self.open.take() {
                    Some(open) => (open.xid, open.records),
                    None => (0, Vec::new()),
                };
                self.server_end = self.server_end.max(end_lsn.as_u64());
                if records.is_empty() && self.pending.is_empty() {
                    self.confirm(end_lsn.as_u64());
                }
                self.pending
                    .extend(records.into_iter().map(|record| Pending {
                        record,
                        commit_end: end_lsn.as_u64(),
                        xid,
                        visible: false,
                        marked: false,
                    }));
            }
            ReplicationEvent::KeepAlive { wal_end, .. } => {
                self.server_end = self.server_end.max(wal_end.as_u64());
                // Everything committed before `wal_end` has been sent; with nothing of it left
                // to publish, the slot may move up to there (else it would hold back the WAL of
                // every other write to the server).
                if self.pending.is_empty() && self.open.is_none() {
                    self.confirm(wal_end.as_u64());
                } else {
                    self.confirm(self.confirmed);
                }
            }
            ReplicationEvent::StoppedAt { .. } => {}
        }
        Ok(())
    }

    /// Takes in what the stream holds now, without waiting.
    fn drain(&mut self) -> anyhow::Result<()> {
        while let Some(next) = self.client.recv().now_or_never() {
            match next? {
                Some(event) => self.take(event)?,
                None => anyhow::bail!("the replication stream ended"),
            }
        }
        Ok(())
    }

    /// Whether some event received is waiting for its transaction to be visible.
    fn awaits_visibility(&self) -> bool {
        self.pending.iter().any(|p| !p.visible)
    }

    /// Asks `pool` for a snapshot, and lets through the events of every transaction it sees
    /// completed.
    ///
    /// If no snapshot can be had, the events received before the attempt go through all the
    /// same. The server may be shutting down: it has ended every session, so every decoded
    /// transaction is complete, and its WAL senders wait for the relay to confirm what they
    /// sent before they exit; holding the events back would hold the shutdown up. Or the pool
    /// is out of connections, after its acquire timeout: the gap is milliseconds, long over.
    async fn check_visibility(&mut self, pool: &PgPool) {
        match Snapshot::current(pool).await {
            Ok(snapshot) => {
                for p in self.pending.iter_mut().filter(|p| !p.visible) {
                    p.visible = snapshot.has_completed(p.xid);
                }
            }
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "outbox relay: no snapshot to check visibility with; publishing what was decoded before");
                for p in self.pending.iter_mut() {
                    p.visible = true;
                }
            }
        }
    }

    /// Marks `ids` published, then confirms every transaction all of whose events are.
    fn mark(&mut self, ids: &[u64]) {
        let ids: HashSet<u64> = ids.iter().copied().collect();
        for p in self.pending.iter_mut() {
            if ids.contains(&p.record.id) {
                p.marked = true;
            }
        }
        let mut whole = None;
        while self.pending.front().is_some_and(|p| p.marked) {
            let p = self.pending.pop_front().expect("a front");
            // A transaction is done when no event of it is left behind.
            if self
                .pending
                .front()
                .is_none_or(|f| f.commit_end != p.commit_end)
            {
                whole = Some(p.commit_end);
            }
        }
        if let Some(end) = whole {
            self.confirm(end);
        }
    }
}

/// The relay's view of a PostgreSQL outbox: the events of its database's replication slot.
///
/// Only one session may stream a slot, so of several instances of a service one relays and
/// the others stand by, trying again every [`STANDBY_RETRY`]. If the stream breaks, what was
/// not confirmed is delivered again on the next one (at least once; the consumers' inboxes
/// drop the copies).
pub struct PgOutboxStore {
    pool: PgPool,
    stream: Option<Stream>,
    /// A standby (or a relay whose stream broke) tries again no sooner than this.
    next_try: Instant,
    /// Whether the last try found the slot held by another session (logged once).
    standing_by: bool,
}

/// How often a standby relay tries to take the slot.
pub const STANDBY_RETRY: Duration = Duration::from_secs(1);

/// How soon the relay looks again at a transaction it decoded before it was visible.
const VISIBILITY_POLL: Duration = Duration::from_millis(1);

/// How long the relay waits for the server to accept the stream.
const START_TIMEOUT: Duration = Duration::from_secs(10);

impl PgOutboxStore {
    /// The outbox of `pool`'s database, streamed as `pool`'s role (which needs `REPLICATION`).
    pub fn new(pool: PgPool) -> Self {
        PgOutboxStore {
            pool,
            stream: None,
            next_try: Instant::now(),
            standing_by: false,
        }
    }

    /// Opens the stream if there is none and it is time to try. `Ok(false)`: standing by.
    async fn ensure_stream(&mut self) -> anyhow::Result<bool> {
        if self.stream.is_some() {
            return Ok(true);
        }
        if Instant::now() < self.next_try {
            return Ok(false);
        }
        self.next_try = Instant::now() + STANDBY_RETRY;
        crate::tls::install_crypto_provider();
        let source = ReplicationSource::of_pool(&self.pool)?;
        let mut client = ReplicationClient::connect(source.config()).await?;
        let started = tokio::time::timeout(START_TIMEOUT, client.wait_started()).await;
        match started {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.to_string().contains("is active for PID") => {
                if !self.standing_by {
                    tracing::info!(slot = %outbox_slot(source.database()), "outbox relay: another instance streams the slot; standing by");
                    self.standing_by = true;
                }
                return Ok(false);
            }
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => {
                client.abort();
                anyhow::bail!(
                    "the server did not start the replication stream within {START_TIMEOUT:?}"
                );
            }
        }
        tracing::info!(slot = %outbox_slot(source.database()), "outbox relay: streaming the slot");
        self.standing_by = false;
        metrics::OUTBOX_RELAY_STREAMING.set(1);
        self.stream = Some(Stream {
            client,
            pending: VecDeque::new(),
            open: None,
            confirmed: 0,
            server_end: 0,
        });
        Ok(true)
    }

    /// Forgets a broken stream; the next one starts from what the slot confirmed.
    fn broken(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            stream.client.abort();
        }
        metrics::OUTBOX_RELAY_STREAMING.set(0);
    }
}

impl Drop for PgOutboxStore {
    fn drop(&mut self) {
        if let Some(stream) = self.stream.as_ref() {
            // Ends the session, so another instance may take the slot.
            stream.client.stop();
            metrics::OUTBOX_RELAY_STREAMING.set(0);
        }
    }
}

#[async_trait]
impl OutboxStore for PgOutboxStore {
    type Id = u64;

    async fn next_batch(
        &mut self,
        limit: usize,
        published: &[u64],
    ) -> anyhow::Result<Vec<OutboxRecord<u64>>> {
        if !self.ensure_stream().await? {
            return Ok(Vec::new());
        }
        let stream = self.stream.as_mut().expect("a stream");
        if let Err(e) = stream.drain() {
            self.broken();
            return Err(e);
        }
        if stream.awaits_visibility() {
            stream.check_visibility(&self.pool).await;
        }
        let out: HashSet<u64> = published.iter().copied().collect();
        // Commit order: nothing after a transaction that is not visible yet.
        Ok(stream
            .pending
            .iter()
            .take_while(|p| p.visible)
            .filter(|p| !p.marked && !out.contains(&p.record.id))
            .take(limit)
            .map(|p| p.record.clone())
            .collect())
    }

    async fn mark_sent(&mut self, ids: &[u64]) -> anyhow::Result<()> {
        let Some(stream) = self.stream.as_mut() else {
            anyhow::bail!("the replication stream broke");
        };
        stream.mark(ids);
        Ok(())
    }

    async fn wait(&mut self, fallback: Duration) {
        let Some(stream) = self.stream.as_mut() else {
            let until = self.next_try.min(Instant::now() + fallback);
            tokio::time::sleep_until(until.into()).await;
            return;
        };
        // A transaction decoded but not visible yet becomes so within moments: look again soon.
        let timeout = if stream.awaits_visibility() {
            VISIBILITY_POLL
        } else {
            fallback
        };
        let got = match tokio::time::timeout(timeout, stream.client.recv()).await {
            Err(_) => return,
            Ok(Ok(Some(event))) => stream.take(event),
            Ok(Ok(None)) => Err(anyhow::anyhow!("the replication stream ended")),
            Ok(Err(e)) => Err(e.into()),
        };
        if let Err(e) = got {
            tracing::warn!(error = %format!("{e:#}"), "outbox relay: the replication stream broke; reconnecting");
            self.broken();
        }
    }
}

/// The events the outbox of `conn`'s database holds that no relay has confirmed, in commit
/// order, read without consuming them (`pg_logical_slot_peek_binary_changes`). For tests and
/// tools: the slot must not be streamed meanwhile.
pub async fn peek_outbox(conn: &mut PgConnection) -> anyhow::Result<Vec<OutboxRecord<u64>>> {
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut *conn)
        .await?;
    let rows: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, \
         'proto_version', '1', 'publication_names', $2, 'messages', 'true')",
    )
    .bind(outbox_slot(&database))
    .bind(PUBLICATION)
    .fetch_all(&mut *conn)
    .await?;
    let mut records = Vec::new();
    let mut committed_at = Utc::now();
    for data in rows {
        match data.first() {
            // Begin: final LSN (8), commit time (8), xid (4).
            Some(b'B') if data.len() >= 17 => {
                let micros = i64::from_be_bytes(data[9..17].try_into().expect("8 bytes"));
                committed_at = pg_time(micros);
            }
            // Message: flags (1), LSN (8), prefix (NUL-terminated), length (4), content.
            Some(b'M') if data.len() > 10 => {
                let lsn = u64::from_be_bytes(data[2..10].try_into().expect("8 bytes"));
                let rest = &data[10..];
                let nul = rest
                    .iter()
                    .position(|b| *b == 0)
                    .ok_or_else(|| anyhow::anyhow!("a message without its prefix's end"))?;
                if &rest[..nul] != MESSAGE_PREFIX.as_bytes() || rest.len() < nul + 5 {
                    continue;
                }
                let content = &rest[nul + 5..];
                records.push(decode(lsn, content, committed_at)?);
            }
            _ => {}
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_its_header_line_then_the_envelope() {
        let id = Uuid::new_v4();
        let content = format!(
            "{{\"id\":\"{id}\",\"type\":\"order.created\",\"key\":\"k1\",\"trace\":null}}\n{{\"a\":1}}"
        );
        let at = pg_time(0);
        let record = decode(42, content.as_bytes(), at).unwrap();
        assert_eq!(record.id, 42);
        assert_eq!(record.event_id, id);
        assert_eq!(record.event_type, "order.created");
        assert_eq!(record.key, "k1");
        assert_eq!(record.payload, b"{\"a\":1}");
        assert_eq!(record.traceparent, None);
        assert_eq!(at.to_rfc3339(), "2000-01-01T00:00:00+00:00");
        assert!(decode(1, b"no header", at).is_err());
    }
}
