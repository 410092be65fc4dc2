//! The transactional outbox, store-agnostic part.
//!
//! A service writes each outgoing event into its own store in the same transaction as the
//! state change that caused it. A relay then reads committed, unsent records and publishes them.
//! Each store implements [`OutboxStore`] (PostgreSQL in [`crate::postgres`], where the outbox
//! is the write-ahead log read through a replication slot; MongoDB in [`crate::mongo`], a
//! collection read through its change stream); the relay, batching, ordering and failure
//! handling are shared in [`relay`].

pub mod relay;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use relay::{OutboxRelay, Published, RelayError};

/// One committed event waiting to be published.
#[derive(Debug, Clone)]
pub struct OutboxRecord<Id> {
    /// The store's id of the record (an LSN, an ObjectId), which the relay hands back to
    /// [`OutboxStore::mark_sent`].
    pub id: Id,
    /// The event's id, which consumers de-duplicate on.
    pub event_id: Uuid,
    /// The event type's name, which is also its topic's name without the namespace prefix.
    pub event_type: String,
    /// The record's Kafka key (the aggregate's id), which keeps one aggregate's events in order.
    pub key: String,
    /// The envelope's JSON, published as is.
    pub payload: Vec<u8>,
    /// The W3C trace context of the change that caused the event, sent as a header.
    pub traceparent: Option<String>,
    /// When the record was written (on PostgreSQL, when its transaction committed), for the
    /// publish-latency metric.
    pub created_at: DateTime<Utc>,
}

/// What a store provides to the shared relay.
#[async_trait]
pub trait OutboxStore: Send + 'static {
    /// The store's id of a record.
    type Id: Clone + Eq + std::hash::Hash + Send + Sync + 'static;

    /// Up to `limit` unsent records other than those of `published`, ordered so that records
    /// of one key appear in the order their transactions committed. Returns nothing while
    /// another relay holds the outbox (MongoDB's lease, PostgreSQL's replication slot).
    ///
    /// `published` are records this relay published but has not marked sent yet. A store
    /// should leave them out; the relay drops any it returns, so a store that cannot filter
    /// may read `limit + published.len()` records instead.
    async fn next_batch(
        &mut self,
        limit: usize,
        published: &[Self::Id],
    ) -> anyhow::Result<Vec<OutboxRecord<Self::Id>>>;

    /// Marks records as published: on MongoDB, a write of the relay's position in the change
    /// stream; on PostgreSQL, what lets the relay confirm their transactions to the slot.
    async fn mark_sent(&mut self, ids: &[Self::Id]) -> anyhow::Result<()>;

    /// Resolves when new records may have been committed, or after `fallback` at the latest.
    async fn wait(&mut self, fallback: Duration);
}
