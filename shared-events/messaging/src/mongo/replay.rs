//! Where the relay starts when its position in the change stream is unknown or gone: the records
//! of the outbox collection that may not have been published, read in one snapshot and ordered
//! by `order.rs`, then the stream, opened just before that snapshot.
//!
//! Everything committed before the snapshot is in it, unless deleted as published; everything
//! committed after the stream opened is in the stream. So that no commit falls between the two,
//! the snapshot is read in a causally consistent session that has first seen a cluster time
//! later than the stream's start (a `ping` after opening it): MongoDB then reads the snapshot at
//! or after that time (`afterClusterTime`), even where the majority-committed point lags. A
//! change the stream yields for a record of the snapshot is a duplicate and is skipped
//! ([`Replay::seen`]); any other one committed after the snapshot, so after all of its records,
//! and is published after them.
//!
//! (Starting the stream at a cluster time instead, `startAtOperationTime`, costs SecantusDB a
//! scan of its oplog: about 8 s with 100,000 entries.)

use std::collections::HashSet;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, DateTime, Timestamp};
use mongodb::Database;

use super::order;
use super::outbox::{OutboxDoc, RecordError};
use super::{txn, OUTBOX};
use crate::outbox::OutboxRecord;

/// Why the records to replay could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReplayError {
    /// The server did not answer, or refused the read.
    #[error("reading the outbox records that may be unpublished")]
    Server(#[source] mongodb::error::Error),
    /// The server gave no cluster time with its answer, so the stream has no start.
    #[error("the server gave no operation time for the outbox snapshot")]
    NoOperationTime,
    /// A stored document is not a record.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// The records to publish before the stream, and where the stream starts.
pub(super) struct Replay {
    /// In each key's commit order.
    pub records: Vec<OutboxRecord<ObjectId>>,
    /// The ids of `records`: the stream's changes for them are duplicates.
    pub seen: HashSet<ObjectId>,
    /// The session's cluster time after the read, at or after the snapshot's: changes
    /// committed later are not in it.
    pub read_at: Timestamp,
}

/// Reads, in one snapshot, the records that may be unpublished: all the outbox's records, or with
/// `since` those created at or after it; records the relay of an earlier version marked sent
/// (`sent_at` set) are left out. Call it once the stream is open.
pub(super) async fn read(db: &Database, since: Option<DateTime>) -> Result<Replay, ReplayError> {
    let outbox = db.collection::<OutboxDoc>(OUTBOX);
    let mut filter = doc! { "sent_at": null };
    if let Some(since) = since {
        filter.insert("created_at", doc! { "$gte": since });
    }
    let mut session = db
        .client()
        .start_session()
        .await
        .map_err(ReplayError::Server)?;
    // Any answer carries the server's cluster time, which is past the stream's start; the
    // transaction's first read then waits for a snapshot that includes it.
    db.run_command(doc! { "ping": 1 })
        .session(&mut session)
        .await
        .map_err(ReplayError::Server)?;
    txn::begin(&mut session)
        .await
        .map_err(ReplayError::Server)?;
    let read = async {
        let mut cursor = outbox
            .find(filter)
            .sort(doc! { "_id": 1 })
            .session(&mut session)
            .await?;
        let docs: Vec<OutboxDoc> = cursor.stream(&mut session).try_collect().await?;
        Ok::<_, mongodb::error::Error>(docs)
    }
    .await;
    let docs = match read {
        Ok(docs) => docs,
        Err(e) => {
            txn::abort(&mut session).await;
            return Err(ReplayError::Server(e));
        }
    };
    // The reads' operation time, before the commit's.
    let read_at = session.operation_time();
    session
        .commit_transaction()
        .await
        .map_err(ReplayError::Server)?;
    let read_at = read_at.ok_or(ReplayError::NoOperationTime)?;
    let records: Vec<OutboxRecord<ObjectId>> = order::in_key_order(docs)
        .into_iter()
        .map(OutboxDoc::into_record)
        .collect::<Result<_, _>>()?;
    Ok(Replay {
        seen: records.iter().map(|r| r.id).collect(),
        records,
        read_at,
    })
}
