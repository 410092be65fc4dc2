//! Where the relay starts when its position in the change stream is unknown or gone: the records
//! of the outbox collection that may not have been published, read in one snapshot and ordered
//! by [`order::in_key_order`], then the stream from a little before that snapshot.
//!
//! Everything committed before the snapshot is in it, unless deleted as published; everything
//! committed after is in the stream, which starts [`OVERLAP_SECS`] earlier so that no commit
//! falls between the two (a snapshot may read slightly in the past, at the majority-committed
//! point). A change the stream yields for a record of the snapshot is a duplicate and is skipped
//! ([`Replay::seen`]); any other one committed after the snapshot, so after all of its records,
//! and is published after them.

use std::collections::HashSet;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, DateTime, Timestamp};
use mongodb::Database;

use super::order;
use super::outbox::{OutboxDoc, RecordError};
use super::{txn, OUTBOX};
use crate::outbox::OutboxRecord;

/// How far before the snapshot the stream starts, in seconds of cluster time.
pub(super) const OVERLAP_SECS: u32 = 10;

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
    /// The cluster time the snapshot was read at (as the server reported it).
    pub read_at: Timestamp,
    /// Where the stream starts: [`OVERLAP_SECS`] before `read_at`.
    pub stream_from: Timestamp,
}

/// Reads, in one snapshot, the records that may be unpublished: all the outbox's records, or with
/// `since` those created at or after it; records the relay of an earlier version marked sent
/// (`sent_at` set) are left out.
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
        stream_from: Timestamp {
            time: read_at.time.saturating_sub(OVERLAP_SECS),
            increment: 0,
        },
    })
}
