//! MongoDB side of the runtime: the outbox and inbox collections, `enqueue`, the relay's store,
//! and the idempotent step ([`MongoInbox`]).
//!
//! Needs a replica set (transactions, change streams); a single-node one is enough. Call
//! [`ensure_indexes`] at start-up. Work inside a transaction goes through [`with_transaction`],
//! which runs it again while it conflicts with another.
//!
//! # Collections
//!
//! - `inbox`: `{_id: "<consumer>:<event_id>", consumer, event_id, event_type, processed_at}`, one
//!   document per event a consumer has applied. The `_id` makes a second application a
//!   duplicate-key error.
//! - `outbox`: `{_id, event_id, event_type, key, payload, traceparent, created_at, sent_at, seq}`,
//!   written in the transaction of the change that caused the event; `payload` is the envelope's
//!   JSON text, `seq` the record's number within its key.
//! - `outbox_keys`: `{_id: key, seq}`, the last number handed out for each key. One small document
//!   per key ever used; it must never be deleted while records of its key are unsent.
//! - `outbox_lease`: `{_id: "relay", owner, expires_at}`, the relay instance that publishes.
//!
//! # Per-key order
//!
//! The relay must publish the records of a key in the order their transactions committed.
//! MongoDB has no sequence that follows commit order (an ObjectId comes from its client's clock
//! and counter), so [`enqueue`] numbers the records of each key: inside the caller's transaction
//! it increments the key's `outbox_keys` document and gives its records the new numbers. Two
//! transactions that enqueue for one key both write that document, and MongoDB lets only one of
//! them: the other fails with a write conflict (label `TransientTransactionError`) and is run
//! again from the start ([`with_transaction`]), this time seeing the first one's number. So the numbers of a key rise in commit order without gaps, and the
//! transaction holding `n + 1` began after the one holding `n` had committed.
//!
//! The relay reads in one snapshot (a read-only transaction): the oldest unsent records by `_id`,
//! then, for their keys, the lowest unsent number (the key's head). A snapshot that holds `n + 1`
//! also holds `n`, which committed first. For each key the batch keeps only the run of
//! consecutive numbers that starts at the head, in number order; when the head lies beyond the
//! first read (its `_id` sorts later), the missing range is fetched in the same snapshot. The
//! relay marks sent only the acked prefix of a batch, so the sent records of a key are always a
//! prefix of its numbers and its head is always the next one due.
//!
//! The price is that concurrent transactions enqueuing for one key conflict instead of queueing
//! (PostgreSQL takes a lock and waits); on a hot key that shows up as attempts run again.
//!
//! # One relay at a time
//!
//! A relay publishes only while it holds the lease document, taken and renewed with a conditional
//! upsert (ours, or expired) that sets `expires_at` to the server's clock plus 10 s. The holder
//! renews it every few seconds from `next_batch`; the others retry it about once a second and
//! get empty batches. A holder that stalls past the expiry may publish one batch the new holder
//! also publishes: duplicates, which consumers drop, never a key out of order. The holder wakes
//! on a change stream of outbox inserts, with the relay's fallback poll as a safety net, and
//! deletes sent records older than the retention about once a minute.

mod inbox;
mod lease;
mod order;
mod outbox;
mod schema;
mod store;
pub mod txn;
mod with_transaction;

pub use inbox::{MongoHandler, MongoInbox};
pub use outbox::enqueue;
pub use schema::{ensure_indexes, SchemaError};
pub use store::MongoOutboxStore;
pub use with_transaction::{
    is_conflict, is_conflict_error, with_transaction, Conflict, Unit, RETRY_FOR,
};

/// The collections the runtime keeps in each service's database.
const INBOX: &str = "inbox";
/// The outbox collection, where [`enqueue`] writes.
pub const OUTBOX: &str = "outbox";
const OUTBOX_KEYS: &str = "outbox_keys";
const OUTBOX_LEASE: &str = "outbox_lease";
