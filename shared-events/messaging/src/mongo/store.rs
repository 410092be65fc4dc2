//! The relay's view of a MongoDB outbox: the lease, the snapshot read that orders each key, marking
//! records sent, waking on inserts, and deleting old sent records.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use futures::{FutureExt, StreamExt, TryStreamExt};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, DateTime, Document};
use mongodb::change_stream::ChangeStream;
use mongodb::options::{CollectionOptions, ReadConcern, WriteConcern};
use mongodb::{ClientSession, Collection, Database};
use serde::Deserialize;

use super::lease::Lease;
use super::order::{self, Gap};
use super::outbox::OutboxDoc;
use super::{txn, OUTBOX};
use crate::outbox::{OutboxRecord, OutboxStore};

/// How often sent records older than the retention are deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);
/// After the change stream fails, how long to poll before opening it again.
const REWATCH_AFTER: Duration = Duration::from_secs(30);
/// Notifications consumed per wake-up; one pass of the relay covers them all.
const MAX_DRAIN: usize = 10_000;

/// The relay's view of a MongoDB outbox.
///
/// One relay per database publishes at a time: the holder of the lease (see the module
/// documentation). Each batch is read in one snapshot and ordered so that every key goes out in
/// commit order. The holder wakes on a change stream of outbox inserts, opened before it reads,
/// with the relay's fallback poll as a safety net. Published records are deleted once older than
/// the retention.
pub struct MongoOutboxStore {
    db: Database,
    /// For the writes and the change stream, which run outside transactions.
    outbox: Collection<Document>,
    lease: Lease,
    changes: Option<ChangeStream<Document>>,
    watch_after: Instant,
    retention: Duration,
    last_cleanup: Instant,
}

impl MongoOutboxStore {
    /// The outbox of `db`, published by whichever instance holds its relay lease.
    pub fn new(db: Database) -> Self {
        let outbox = db.collection_with_options(
            OUTBOX,
            CollectionOptions::builder()
                .read_concern(ReadConcern::majority())
                .write_concern(WriteConcern::majority())
                .build(),
        );
        MongoOutboxStore {
            lease: Lease::new(&db),
            db,
            outbox,
            changes: None,
            watch_after: Instant::now(),
            retention: Duration::from_secs(3600),
            last_cleanup: Instant::now(),
        }
    }

    /// How long published records are kept for inspection before they are deleted.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Opens the change stream if it is not open (and has not failed lately). Opened before the
    /// read, so that an insert committed after the read wakes [`OutboxStore::wait`].
    async fn ensure_watch(&mut self) {
        if self.changes.is_some() || Instant::now() < self.watch_after {
            return;
        }
        let opened = self
            .outbox
            .watch()
            .pipeline([
                doc! { "$match": { "operationType": "insert" } },
                // Only the wake-up matters; do not ship the payloads.
                doc! { "$project": { "fullDocument": 0 } },
            ])
            .await;
        match opened {
            Ok(stream) => self.changes = Some(stream.with_type::<Document>()),
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay: cannot watch the outbox; polling instead");
                self.watch_after = Instant::now() + REWATCH_AFTER;
            }
        }
    }

    /// Deletes sent records older than the retention, at most once per [`CLEANUP_EVERY`].
    async fn cleanup(&mut self) {
        if self.last_cleanup.elapsed() < CLEANUP_EVERY {
            return;
        }
        self.last_cleanup = Instant::now();
        let retention_ms = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff = DateTime::from_millis(
            DateTime::now()
                .timestamp_millis()
                .saturating_sub(retention_ms),
        );
        // Unsent records (`sent_at: null`) never match a date comparison.
        match self
            .outbox
            .delete_many(doc! { "sent_at": { "$lt": cutoff } })
            .await
        {
            Ok(result) => tracing::debug!(
                deleted = result.deleted_count,
                "outbox relay: old sent records deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "outbox relay: deleting old sent records failed"),
        }
    }
}

/// Reads the next batch in one snapshot (a read-only transaction); see [`read_in_snapshot`].
async fn read_batch(db: &Database, limit: usize) -> mongodb::error::Result<Vec<OutboxDoc>> {
    let outbox = db.collection::<OutboxDoc>(OUTBOX);
    let mut session = db.client().start_session().await?;
    txn::begin(&mut session).await?;
    match read_in_snapshot(&outbox, &mut session, limit).await {
        Ok(batch) => {
            session.commit_transaction().await?;
            Ok(batch)
        }
        Err(e) => {
            txn::abort(&mut session).await;
            Err(e)
        }
    }
}

/// The oldest unsent records by `_id`, then the heads of their keys, then (rarely) the records
/// between a head and the first read of its key; ordered by [`order::publishable`].
async fn read_in_snapshot(
    outbox: &Collection<OutboxDoc>,
    session: &mut ClientSession,
    limit: usize,
) -> mongodb::error::Result<Vec<OutboxDoc>> {
    let max = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut cursor = outbox
        .find(doc! { "sent_at": null })
        .sort(doc! { "_id": 1 })
        .limit(max)
        .session(&mut *session)
        .await?;
    let mut read: Vec<OutboxDoc> = cursor.stream(&mut *session).try_collect().await?;
    if read.is_empty() {
        return Ok(read);
    }
    let keys: Vec<&str> = read
        .iter()
        .map(|d| d.key.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut cursor = outbox
        .aggregate([
            doc! { "$match": { "key": { "$in": keys }, "sent_at": null } },
            doc! { "$group": { "_id": "$key", "seq": { "$min": "$seq" } } },
        ])
        .with_type::<Head>()
        .session(&mut *session)
        .await?;
    let heads: HashMap<String, i64> = cursor
        .stream(&mut *session)
        .map_ok(|h| (h.key, h.seq))
        .try_collect()
        .await?;
    let gaps = order::missing_heads(&read, &heads);
    if !gaps.is_empty() {
        let ranges: Vec<Document> = gaps
            .iter()
            .map(|gap: &Gap| {
                doc! {
                    "key": gap.key.as_str(),
                    "sent_at": null,
                    "seq": { "$gte": gap.from, "$lt": gap.to },
                }
            })
            .collect();
        let mut cursor = outbox
            .find(doc! { "$or": ranges })
            .sort(doc! { "key": 1, "seq": 1 })
            .limit(max)
            .session(&mut *session)
            .await?;
        let filled: Vec<OutboxDoc> = cursor.stream(&mut *session).try_collect().await?;
        read.extend(filled);
    }
    Ok(order::publishable(read, &heads, limit))
}

/// A key's lowest unsent number.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "_id")]
    key: String,
    seq: i64,
}

#[async_trait]
impl OutboxStore for MongoOutboxStore {
    type Id = ObjectId;

    async fn next_batch(
        &mut self,
        limit: usize,
        published: &[ObjectId],
    ) -> anyhow::Result<Vec<OutboxRecord<ObjectId>>> {
        if !self.lease.hold().await? {
            // Another instance publishes; its inserts are not ours to wake on.
            self.changes = None;
            return Ok(Vec::new());
        }
        self.ensure_watch().await;
        self.cleanup().await;
        // The records published and not yet marked are still unsent here, and each key's
        // head must count them; read past them, and the relay drops them.
        let batch = read_batch(&self.db, limit + published.len())
            .await
            .context("reading the outbox")?;
        Ok(batch
            .into_iter()
            .map(OutboxDoc::into_record)
            .collect::<Result<_, _>>()?)
    }

    async fn mark_sent(&mut self, ids: &[ObjectId]) -> anyhow::Result<()> {
        self.outbox
            .update_many(
                doc! { "_id": { "$in": ids.to_vec() }, "sent_at": null },
                doc! { "$currentDate": { "sent_at": true } },
            )
            .await
            .context("marking outbox records sent")?;
        Ok(())
    }

    async fn wait(&mut self, fallback: Duration) {
        let Some(changes) = self.changes.as_mut() else {
            tokio::time::sleep(fallback).await;
            return;
        };
        let broken = match tokio::time::timeout(fallback, changes.next()).await {
            Err(_elapsed) => None,
            Ok(first) => drain(changes, first),
        };
        if let Some(reason) = broken {
            tracing::warn!(
                reason,
                "outbox relay: the outbox change stream stopped; polling for now"
            );
            self.changes = None;
            self.watch_after = Instant::now() + REWATCH_AFTER;
        }
    }
}

/// Consumes the notification received and any others already at hand, so that one pass of the
/// relay answers them all. Returns why the stream stopped, if it did.
fn drain(
    changes: &mut ChangeStream<Document>,
    mut item: Option<mongodb::error::Result<Document>>,
) -> Option<String> {
    for _ in 0..MAX_DRAIN {
        match item {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Some(e.to_string()),
            None => return Some("closed by the server".to_owned()),
        }
        // The stream keeps an unfinished fetch for the next poll, so leaving it pending is safe.
        match changes.next().now_or_never() {
            Some(next) => item = next,
            None => return None,
        }
    }
    None
}
