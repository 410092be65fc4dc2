//! How far the relay has published: the change stream's resume token, kept in the lease
//! document.
//!
//! `{_id: "relay", owner, expires_at, position: {token, wall}}`: `token` resumes the outbox's
//! change stream after the last record the relay confirmed (or after a quiet stretch with
//! nothing to publish), `wall` is the server's time at that record's commit. Only the lease's
//! holder may write it: the update matches the document only while `owner` is the writer, so a
//! relay that lost its lease cannot move the position of the one that took it over.

use mongodb::bson::{self, doc, DateTime, Document};
use mongodb::change_stream::event::ResumeToken;
use mongodb::Collection;
use serde::{Deserialize, Serialize};

use super::lease::LEASE_ID;

/// Where the outbox's change stream resumes, and the commit time of what precedes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Position {
    /// The stream's resume token: opaque, handed back to the server as it came.
    pub token: ResumeToken,
    /// The server's wall-clock time at the commit of the last confirmed record (on a quiet
    /// stream, of an earlier one); every record committed before it is published.
    pub wall: DateTime,
}

/// Why the position could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(super) enum PositionError {
    /// The server did not answer.
    #[error("reading or writing the outbox relay's position")]
    Server(#[source] mongodb::error::Error),
    /// The stored position is not a position (written by something else, or altered).
    #[error("the outbox relay's stored position is malformed")]
    Malformed(#[source] bson::de::Error),
    /// The lease document is no longer this relay's: another instance publishes now.
    #[error("the outbox relay lease passed to another instance; position not recorded")]
    LeaseLost,
}

#[derive(Deserialize)]
struct Stored {
    position: Option<Document>,
}

/// The stored position, if a relay ever recorded one.
pub(super) async fn load(lease: &Collection<Document>) -> Result<Option<Position>, PositionError> {
    let stored = lease
        .clone_with_type::<Stored>()
        .find_one(doc! { "_id": LEASE_ID })
        .projection(doc! { "position": 1 })
        .await
        .map_err(PositionError::Server)?;
    match stored.and_then(|s| s.position) {
        Some(position) => bson::from_document(position)
            .map(Some)
            .map_err(PositionError::Malformed),
        None => Ok(None),
    }
}

/// Records `position`, if `owner` still holds the lease.
pub(super) async fn save(
    lease: &Collection<Document>,
    owner: &str,
    position: &Position,
) -> Result<(), PositionError> {
    let position = bson::to_document(position).expect("a position serializes to a document");
    let result = lease
        .update_one(
            doc! { "_id": LEASE_ID, "owner": owner },
            doc! { "$set": { "position": position } },
        )
        .await
        .map_err(PositionError::Server)?;
    if result.matched_count == 0 {
        return Err(PositionError::LeaseLost);
    }
    Ok(())
}
