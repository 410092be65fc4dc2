//! The collections and indexes the runtime keeps in each service's MongoDB database.
//!
//! Created idempotently at start-up; several instances starting at once may all run it. The
//! collections written in transactions are created here, so that no transaction has to.

use mongodb::bson::{doc, Document};
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::{INBOX, OUTBOX, OUTBOX_KEYS};

/// The server's `NamespaceExists` error code.
const NAMESPACE_EXISTS: i32 = 48;

/// Why [`ensure_indexes`] could not prepare the runtime's collections.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A collection could not be created, for a reason other than its existing already (the
    /// server is unreachable, is not a replica set's primary, or refused the user).
    #[error("creating the `{name}` collection")]
    Collection {
        /// The collection's name.
        name: &'static str,
        /// The server's error.
        #[source]
        source: mongodb::error::Error,
    },
    /// The outbox's indexes could not be created, e.g. because an index of the same name
    /// exists with other keys or options.
    #[error("creating the outbox indexes")]
    Indexes(#[source] mongodb::error::Error),
}

/// Creates the inbox and outbox collections and the outbox's indexes if they are missing.
///
/// - `outbox_created_at` `{created_at}`: the records a replay reads and the deletion of old
///   published ones.
/// - `outbox_key_seq` `{key, sent_at, seq}`, unique: two records can never share a key's number.
///   (`sent_at` is there for the records of earlier versions, which set it once published.)
/// - `outbox_event_id` `{event_id}`, unique: an event is enqueued once.
///
/// An `outbox_unsent` index made by an earlier version is no longer used; it may be dropped.
///
/// The inbox needs no index beyond `_id`, which is `<consumer>:<event_id>`.
pub async fn ensure_indexes(db: &Database) -> Result<(), SchemaError> {
    for name in [INBOX, OUTBOX, OUTBOX_KEYS] {
        create_collection(db, name).await?;
    }
    let indexes = [
        index("outbox_created_at", doc! { "created_at": 1 }, false),
        index(
            "outbox_key_seq",
            doc! { "key": 1, "sent_at": 1, "seq": 1 },
            true,
        ),
        index("outbox_event_id", doc! { "event_id": 1 }, true),
    ];
    db.collection::<Document>(OUTBOX)
        .create_indexes(indexes)
        .await
        .map_err(SchemaError::Indexes)?;
    Ok(())
}

async fn create_collection(db: &Database, name: &'static str) -> Result<(), SchemaError> {
    match db.create_collection(name).await {
        Ok(()) => Ok(()),
        Err(e) if matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS) => {
            Ok(())
        }
        Err(source) => Err(SchemaError::Collection { name, source }),
    }
}

fn index(name: &str, keys: Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique)
                .build(),
        )
        .build()
}
