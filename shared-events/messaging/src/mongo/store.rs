//! The relay's view of a MongoDB outbox: the lease, the change stream of the outbox's inserts
//! as the source of records, the position recorded once records are published, the replay that
//! starts the relay without a position, and deleting old published records.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, DateTime, Document, Timestamp};
use mongodb::change_stream::event::{ChangeStreamEvent, ResumeToken};
use mongodb::options::{CollectionOptions, ReadConcern, WriteConcern};
use mongodb::{Collection, Database};

use super::lease::Lease;
use super::outbox::RecordError;
use super::position::{self, Position};
use super::replay;
use super::stream::{self, Feed, Item, Start};
use super::OUTBOX;
use crate::outbox::{OutboxRecord, OutboxStore};

/// How often published records older than the retention are deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);
/// On a quiet outbox, how often the stream's advancing position is recorded, so that it stays
/// within the oplog while other collections' writes go by.
const QUIET_SAVE_EVERY: Duration = Duration::from_secs(10);
/// With a lost position, the replay reads the records created this long before the last
/// recorded commit time: more than a transaction lasts (60 s on MongoDB) plus clock skew
/// between the services' hosts and the server.
const REPLAY_MARGIN: Duration = Duration::from_secs(300);
/// Records held unconfirmed, at most (while the broker is down, say): past it the relay takes
/// nothing more from the stream, which waits.
const MAX_PENDING: usize = 10_000;

/// A record the relay has been handed or will be, not yet confirmed.
struct Pending {
    record: OutboxRecord<ObjectId>,
    /// The stream's position after it; `None` for a replayed record, read from the collection.
    after: Option<Position>,
}

/// The relay's view of a MongoDB outbox.
///
/// One relay per database publishes at a time: the holder of the lease. It publishes the
/// outbox's inserts as its change stream yields them, in commit order, and records its position
/// in the stream once they are published. See the module documentation of [`super`].
pub struct MongoOutboxStore {
    db: Database,
    /// For the stream and the deletions, which run outside transactions.
    outbox: Collection<Document>,
    lease: Lease,
    changes: Option<Feed>,
    /// The stream's position after every change received, when the last thing received was a
    /// quiet batch.
    quiet: Option<ResumeToken>,
    /// Records read or received, not yet confirmed, in publishing order.
    pending: VecDeque<Pending>,
    /// Replayed records whose changes the stream may yield again, until it is past the replay's
    /// snapshot (the cluster time).
    replayed: Option<(HashSet<ObjectId>, Timestamp)>,
    /// The position last recorded (or read at start).
    saved: Option<Position>,
    saved_at: Option<Instant>,
    /// The commit time recorded with a quiet position: the last confirmed record's, else when
    /// the replay began.
    wall: DateTime,
    /// The stream could not resume from the recorded position; replay on the next start.
    position_lost: bool,
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
            quiet: None,
            pending: VecDeque::new(),
            replayed: None,
            saved: None,
            saved_at: None,
            wall: DateTime::now(),
            position_lost: false,
            retention: Duration::from_secs(3600),
            last_cleanup: Instant::now(),
        }
    }

    /// How long published records are kept for inspection before they are deleted.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Forgets the stream and what it yielded: the next pass starts again from the recorded
    /// position, so what was not confirmed comes again.
    fn reset(&mut self) {
        self.changes = None;
        self.quiet = None;
        self.pending.clear();
        self.replayed = None;
    }

    /// Opens the stream after the recorded position; without one, or when the stream cannot
    /// resume from it, replays the collection first.
    async fn start(&mut self) -> anyhow::Result<()> {
        let stored = position::load(self.lease.collection())
            .await
            .context("reading the outbox relay's position")?;
        self.saved = stored.clone();
        self.saved_at = Some(Instant::now());
        self.wall = stored.as_ref().map_or_else(DateTime::now, |p| p.wall);
        if let (Some(at), false) = (&stored, self.position_lost) {
            match Feed::open(&self.outbox, Start::After(at.token.clone())).await {
                Ok(changes) => {
                    self.changes = Some(changes);
                    return Ok(());
                }
                Err(e) if stream::position_lost(&e) => {
                    tracing::warn!(error = %e, "outbox relay: the recorded position is no longer in the oplog; replaying the outbox");
                }
                Err(e) => return Err(e).context("opening the outbox change stream"),
            }
        }
        // What committed after the last recorded commit time may be unpublished; with no
        // position at all, anything may be.
        let since = stored.map(|p| {
            let margin = i64::try_from(REPLAY_MARGIN.as_millis()).unwrap_or(i64::MAX);
            DateTime::from_millis(p.wall.timestamp_millis().saturating_sub(margin))
        });
        let changes = Feed::open(&self.outbox, Start::Now)
            .await
            .context("opening the outbox change stream")?;
        let replay = replay::read(&self.db, since).await?;
        tracing::info!(
            records = replay.records.len(),
            "outbox relay: replaying the outbox's records that may be unpublished"
        );
        self.pending
            .extend(replay.records.into_iter().map(|record| Pending {
                record,
                after: None,
            }));
        self.replayed = Some((replay.seen, replay.read_at));
        self.changes = Some(changes);
        self.position_lost = false;
        // Record the stream's position as soon as the replay is confirmed.
        self.saved_at = None;
        Ok(())
    }

    /// Queues a change from the stream, unless it repeats a replayed record.
    fn accept(&mut self, event: ChangeStreamEvent<Document>) -> Result<(), RecordError> {
        let change = stream::change(event)?;
        if let Some((seen, read_at)) = &mut self.replayed {
            if seen.remove(&change.record.id) {
                return Ok(());
            }
            // Past the replay's snapshot: no more repeats.
            if seen.is_empty() || change.cluster_time.is_some_and(|t| t > *read_at) {
                self.replayed = None;
            }
        }
        self.pending.push_back(Pending {
            record: change.record,
            after: Some(change.after),
        });
        Ok(())
    }

    /// Queues the changes the feed already holds, without waiting for more.
    fn drain(&mut self) -> anyhow::Result<()> {
        while self.pending.len() < MAX_PENDING {
            match self.changes.as_mut().and_then(Feed::ready) {
                None => return Ok(()),
                Some(item) => self.received(item)?,
            }
        }
        Ok(())
    }

    /// Handles what the feed handed over: a change is queued, a quiet position kept; an end
    /// or an error closes the stream, and the next pass opens it again from the recorded
    /// position.
    fn received(&mut self, item: Item) -> anyhow::Result<()> {
        let reason = match item {
            Item::Change(event) => match self.accept(*event) {
                Ok(()) => {
                    self.quiet = None;
                    return Ok(());
                }
                Err(e) => {
                    // Stop here rather than skip it: the next pass reads it again.
                    self.reset();
                    return Err(e).context("reading the outbox change stream");
                }
            },
            Item::Quiet(token) => {
                self.quiet = Some(token);
                return Ok(());
            }
            Item::Stopped(Some(e)) => {
                if stream::position_lost(&e) {
                    self.position_lost = true;
                }
                e.to_string()
            }
            Item::Stopped(None) => "closed by the server".to_owned(),
        };
        tracing::warn!(
            reason,
            "outbox relay: the outbox change stream stopped; opening it again"
        );
        self.reset();
        Ok(())
    }

    /// On a quiet outbox (nothing unconfirmed), records the stream's position when it has moved
    /// and [`QUIET_SAVE_EVERY`] has passed, so that it does not fall off the oplog.
    async fn save_quiet(&mut self) -> anyhow::Result<()> {
        if !self.pending.is_empty()
            || self
                .saved_at
                .is_some_and(|at| at.elapsed() < QUIET_SAVE_EVERY)
        {
            return Ok(());
        }
        let Some(token) = self.quiet.clone() else {
            return Ok(());
        };
        if self.saved.as_ref().is_some_and(|p| p.token == token) {
            return Ok(());
        }
        let position = Position {
            token,
            wall: self.wall,
        };
        self.save(position).await
    }

    /// Records `position` as the lease holder's.
    async fn save(&mut self, position: Position) -> anyhow::Result<()> {
        if let Err(e) = position::save(self.lease.collection(), self.lease.owner(), &position).await
        {
            // The lease passed on or the write failed: start again from what is recorded.
            self.reset();
            return Err(e).context("recording the outbox relay's position");
        }
        self.wall = position.wall;
        self.saved = Some(position);
        self.saved_at = Some(Instant::now());
        Ok(())
    }

    /// Deletes records created longer than the retention before the last confirmed commit, at
    /// most once per [`CLEANUP_EVERY`]. A transaction lasts far less than the retention, so
    /// they committed before it and are published.
    async fn cleanup(&mut self) {
        if self.last_cleanup.elapsed() < CLEANUP_EVERY || self.saved.is_none() {
            return;
        }
        self.last_cleanup = Instant::now();
        let retention_ms = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let cutoff =
            DateTime::from_millis(self.wall.timestamp_millis().saturating_sub(retention_ms));
        match self
            .outbox
            .delete_many(doc! { "created_at": { "$lt": cutoff } })
            .await
        {
            Ok(result) => tracing::debug!(
                deleted = result.deleted_count,
                "outbox relay: old published records deleted"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay: deleting old published records failed")
            }
        }
    }
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
            // Another instance publishes.
            self.reset();
            return Ok(Vec::new());
        }
        if self.changes.is_none() {
            if let Err(e) = self.start().await {
                self.reset();
                return Err(e);
            }
        }
        self.drain()?;
        self.save_quiet().await?;
        self.cleanup().await;
        let out: HashSet<&ObjectId> = published.iter().collect();
        Ok(self
            .pending
            .iter()
            .filter(|p| !out.contains(&p.record.id))
            .take(limit)
            .map(|p| p.record.clone())
            .collect())
    }

    /// Confirms the published records at the head of the queue and records the stream's
    /// position after the last of them: one write, however many records.
    async fn mark_sent(&mut self, ids: &[ObjectId]) -> anyhow::Result<()> {
        let ids: HashSet<&ObjectId> = ids.iter().collect();
        let mut confirmed = 0;
        let mut last = None;
        for pending in &self.pending {
            if !ids.contains(&pending.record.id) {
                break;
            }
            confirmed += 1;
            if pending.after.is_some() {
                last = pending.after.clone();
            }
        }
        if let Some(position) = last {
            self.save(position).await?;
        }
        self.pending.drain(..confirmed);
        Ok(())
    }

    async fn wait(&mut self, fallback: Duration) {
        let changes = match self.changes.as_mut() {
            Some(changes) if self.pending.len() < MAX_PENDING => changes,
            _ => {
                tokio::time::sleep(fallback).await;
                return;
            }
        };
        if let Ok(item) = tokio::time::timeout(fallback, changes.next()).await {
            if let Err(e) = self.received(item) {
                tracing::warn!(error = %format!("{e:#}"), "outbox relay: a change of the outbox is not a record");
            }
        }
    }
}
