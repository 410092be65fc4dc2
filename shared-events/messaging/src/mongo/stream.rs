//! The outbox's change stream: the relay's source of records, in commit order.
//!
//! MongoDB lists a replica set's majority-committed writes in its oplog in commit order; a change
//! stream of the outbox's inserts therefore yields the records in the order their transactions
//! committed, the records of one transaction together and in the order they were inserted, and
//! never a record whose transaction rolled back. Each insert carries the whole document
//! (`fullDocument`), taken from the oplog entry rather than looked up, so the relay reads
//! nothing else. Each change's `_id` is a resume token: a stream opened after it yields what
//! follows it.
//!
//! A task of its own reads the stream ([`Feed`]), one batch at a time, and hands the changes over
//! in order; after a batch with nothing in it, it hands over the stream's position instead (the
//! server's post-batch resume token), which moves on while other collections are written.

use mongodb::bson::{self, doc, Document, Timestamp};
use mongodb::change_stream::event::{ChangeStreamEvent, ResumeToken};
use mongodb::change_stream::ChangeStream;
use mongodb::error::{Error, ErrorKind};
use mongodb::Collection;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::outbox::{OutboxDoc, RecordError};
use super::position::Position;
use crate::outbox::OutboxRecord;

/// The server's `ChangeStreamHistoryLost`: the resume point is no longer in the oplog.
const CHANGE_STREAM_HISTORY_LOST: i32 = 286;
/// The server's `InvalidResumeToken`: the token is not one this stream can resume from.
const INVALID_RESUME_TOKEN: i32 = 260;

/// The outbox's inserts.
type Changes = ChangeStream<ChangeStreamEvent<Document>>;

/// Where a stream starts.
#[derive(Debug, Clone)]
pub(super) enum Start {
    /// Just after the change this token names.
    After(ResumeToken),
    /// With what commits from now on.
    Now,
}

/// Changes handed over but not yet taken, at most; the reading task waits while it is full.
const FEED_CAPACITY: usize = 1024;

/// What the reading task hands over, in the stream's order.
pub(super) enum Item {
    /// An insert into the outbox.
    Change(Box<ChangeStreamEvent<Document>>),
    /// A batch came back empty: the stream's position after every change handed over so far.
    Quiet(ResumeToken),
    /// The stream stopped: closed by the server, or failed.
    Stopped(Option<Error>),
}

/// The changes of an open stream, read ahead by a task of their own; dropping it stops the task.
pub(super) struct Feed {
    items: mpsc::Receiver<Item>,
    task: JoinHandle<()>,
}

impl Feed {
    /// Opens the stream of the outbox's inserts from `start` and starts reading it.
    pub async fn open(outbox: &Collection<Document>, start: Start) -> Result<Feed, Error> {
        let changes = open(outbox, start).await?;
        let (tx, items) = mpsc::channel(FEED_CAPACITY);
        let task = tokio::spawn(read(changes, tx));
        Ok(Feed { items, task })
    }

    /// The next item, if one is already at hand.
    pub fn ready(&mut self) -> Option<Item> {
        self.items.try_recv().ok()
    }

    /// The next item, once there is one. Cancel-safe: nothing is lost if it is dropped.
    pub async fn next(&mut self) -> Item {
        self.items.recv().await.unwrap_or(Item::Stopped(None))
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads `changes` into `items` until the stream stops or the [`Feed`] is dropped.
async fn read(mut changes: Changes, items: mpsc::Sender<Item>) {
    loop {
        let item = match changes.next_if_any().await {
            Ok(Some(change)) => Item::Change(Box::new(change)),
            Ok(None) => match changes.resume_token() {
                Some(token) => Item::Quiet(token),
                None => continue,
            },
            Err(e) => {
                let _ = items.send(Item::Stopped(Some(e))).await;
                return;
            }
        };
        if items.send(item).await.is_err() {
            return;
        }
        if !changes.is_alive() {
            let _ = items.send(Item::Stopped(None)).await;
            return;
        }
    }
}

/// Opens the stream of the outbox's inserts from `start`.
async fn open(outbox: &Collection<Document>, start: Start) -> Result<Changes, Error> {
    let watch = outbox
        .watch()
        .pipeline([doc! { "$match": { "operationType": "insert" } }]);
    let watch = match start {
        Start::After(token) => watch.start_after(token),
        Start::Now => watch,
    };
    Ok(watch.await?.with_type())
}

/// Whether the stream cannot resume from the position asked for (it fell off the oplog, or the
/// token is not a resume token of this stream): the relay must find its place another way.
pub(super) fn position_lost(error: &Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Command(c) if c.code == CHANGE_STREAM_HISTORY_LOST || c.code == INVALID_RESUME_TOKEN
    )
}

/// One insert into the outbox, as the relay publishes it.
pub(super) struct Change {
    pub record: OutboxRecord<bson::oid::ObjectId>,
    /// The stream's position just after this record.
    pub after: Position,
    /// When its transaction committed, in cluster time.
    pub cluster_time: Option<Timestamp>,
}

/// The record an insert carries, and the position after it.
pub(super) fn change(event: ChangeStreamEvent<Document>) -> Result<Change, RecordError> {
    let document = event.full_document.ok_or(RecordError::NoDocument)?;
    let stored: OutboxDoc = bson::from_document(document).map_err(RecordError::Shape)?;
    // `wallTime` is there on MongoDB 6.0 and later; the record's own time is close enough for
    // what it bounds (see `Position::wall`), since the commit follows it.
    let wall = event.wall_time.unwrap_or(stored.created_at);
    Ok(Change {
        cluster_time: event.cluster_time,
        record: stored.into_record()?,
        after: Position {
            token: event.id,
            wall,
        },
    })
}
