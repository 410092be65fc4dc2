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
//! - `outbox`: `{_id, event_id, event_type, key, payload, traceparent, created_at, seq}`, written
//!   in the transaction of the change that caused the event; `payload` is the envelope's JSON
//!   text, `seq` the record's number within its key. Records are never updated; they are deleted
//!   once published and older than the retention. (Records of earlier versions also carry
//!   `sent_at`, set once they were published.)
//! - `outbox_keys`: `{_id: key, seq}`, the last number handed out for each key.
//! - `outbox_lease`: `{_id: "relay", owner, expires_at, position}`, the relay instance that
//!   publishes and how far it has published.
//!
//! # The outbox is read from its change stream
//!
//! The relay follows a change stream of the outbox's inserts, as the PostgreSQL relay follows
//! the write-ahead log (`stream.rs`). The oplog lists majority-committed writes in commit order,
//! so the inserts arrive in the order their transactions committed, each with its whole
//! document, and a rolled-back transaction's never arrive: the relay publishes them as they
//! come, with no read of the collection, no lock, no mark. Once a batch is acknowledged by the
//! broker, the relay records the stream's resume token after its last record in the lease
//! document (`position.rs`): one small write per confirmation, deferred and batched by the relay
//! like the PostgreSQL relay's confirmation to its slot (about every 100 ms under load). On a
//! quiet outbox it records the stream's advancing position every 10 s, so that the position
//! stays within the oplog while other writes go by. A relay that starts resumes the stream
//! after the recorded position and publishes again what followed it: at least once.
//!
//! # Per-key order without the stream
//!
//! With no recorded position (the first start, or a relay of an earlier version), or one that
//! fell off the oplog, the relay replays (`replay.rs`): it reads in one snapshot the records that
//! may be unpublished (with no position, all those an earlier version did not mark sent; with a
//! lost one, those created from 5 minutes before its commit time on), publishes them, then
//! follows the stream, opened just before that snapshot, skipping the records it already has.
//!
//! That read needs each key's commit order, which a collection does not keep (an ObjectId comes
//! from its client's clock and counter). So [`enqueue`] numbers the records of each key: inside
//! the caller's transaction it increments the key's `outbox_keys` document and gives its
//! records the new numbers. Two transactions that enqueue for one key both write that
//! document, and MongoDB lets only one of them: the other fails with a write conflict (label
//! `TransientTransactionError`) and is run again from the start ([`with_transaction`]), this
//! time seeing the first one's number. So the numbers of a key rise in commit order, and the
//! replay publishes each key's records by number (`order.rs`). The price is that concurrent
//! transactions enqueuing for one key conflict instead of queueing (PostgreSQL takes a lock and
//! waits); on a hot key that shows up as attempts run again.
//!
//! # One relay at a time
//!
//! A relay publishes only while it holds the lease document, taken and renewed with a conditional
//! upsert (ours, or expired) that sets `expires_at` to the server's clock plus 10 s. The holder
//! renews it every few seconds from `next_batch`; the others retry it about once a second and
//! get empty batches. Only the holder can record a position (the write matches the lease
//! document only while it names the writer). A holder that stalls past the expiry may publish
//! one batch the new holder also publishes: duplicates, which consumers drop, never a key out of
//! order. Published records older than the retention (counted back from the last confirmed
//! commit) are deleted about once a minute.

mod inbox;
mod lease;
mod order;
mod outbox;
mod position;
mod replay;
mod schema;
mod store;
mod stream;
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
