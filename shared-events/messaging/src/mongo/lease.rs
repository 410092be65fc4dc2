//! The relay lease: which relay instance publishes a database's outbox.
//!
//! One document, `{_id: "relay", owner, expires_at}`, which also keeps the holder's position in
//! the outbox's change stream (see [`super::position`]). It is taken or renewed by a conditional
//! upsert that matches it only if it is ours or expired; when it is another's, the upsert's
//! insert fails on `_id` and the lease is not ours. Expiry is computed on the server's clock
//! (`$$NOW`), so the instances' clocks do not matter.
//!
//! The lease's test against a real server (an expired lease is taken by another instance, an
//! unexpired one is not) is in `tests/mongo.rs`.

use std::time::{Duration, Instant};

use mongodb::bson::{doc, Document};
use mongodb::options::{ReturnDocument, WriteConcern};
use mongodb::{Collection, Database};

use super::{txn, OUTBOX_LEASE};

/// The `_id` of the lease document.
pub(super) const LEASE_ID: &str = "relay";
/// How long a lease lasts unless renewed.
const TTL: Duration = Duration::from_secs(10);
/// The holder renews once this much has passed since its last renewal began; well under the TTL.
const RENEW_AFTER: Duration = Duration::from_secs(3);
/// How often an instance that does not hold the lease tries to take it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The lease could not be taken or renewed: the server did not answer the upsert. Whether it
/// is still ours is unknown, so the relay treats it as lost until an attempt succeeds.
#[derive(Debug, thiserror::Error)]
#[error("taking or renewing the outbox relay lease")]
pub(super) struct LeaseError(#[source] mongodb::error::Error);

pub(super) struct Lease {
    coll: Collection<Document>,
    owner: String,
    /// When the last successful renewal was sent; `None` while the lease is not ours.
    renewed: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl Lease {
    pub fn new(db: &Database) -> Self {
        let coll = db.collection_with_options(
            OUTBOX_LEASE,
            mongodb::options::CollectionOptions::builder()
                .write_concern(WriteConcern::majority())
                .build(),
        );
        Lease {
            coll,
            owner: uuid::Uuid::new_v4().to_string(),
            renewed: None,
            last_attempt: None,
        }
    }

    /// The lease document's collection, where the holder also records its position.
    pub fn collection(&self) -> &Collection<Document> {
        &self.coll
    }

    /// This instance's name in the lease document.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Whether this instance holds the lease, taking or renewing it when due.
    pub async fn hold(&mut self) -> Result<bool, LeaseError> {
        let now = Instant::now();
        match self.renewed {
            Some(renewed) if now.duration_since(renewed) < RENEW_AFTER => return Ok(true),
            None if self
                .last_attempt
                .is_some_and(|at| now.duration_since(at) < RETRY_AFTER) =>
            {
                return Ok(false)
            }
            _ => {}
        }
        self.last_attempt = Some(now);
        let held_before = self.renewed.is_some();
        let got = match self.take_or_renew().await {
            Ok(got) => got,
            Err(e) => {
                // Unknown: treat it as lost until the next attempt renews it (it is still ours).
                self.renewed = None;
                return Err(LeaseError(e));
            }
        };
        match (held_before, got) {
            (false, true) => tracing::info!(owner = %self.owner, "outbox relay: lease acquired"),
            (true, false) => tracing::warn!(owner = %self.owner, "outbox relay: lease lost"),
            _ => {}
        }
        // Counted from before the request: the server's expiry is at least `TTL` after this.
        self.renewed = got.then_some(now);
        Ok(got)
    }

    async fn take_or_renew(&self) -> mongodb::error::Result<bool> {
        let ttl_ms = i64::try_from(TTL.as_millis()).unwrap_or(i64::MAX);
        let filter = doc! {
            "_id": LEASE_ID,
            "$or": [
                { "owner": &self.owner },
                // Compared as milliseconds: SecantusDB answers false to any `$lt` of two
                // dates in an expression (docs/secantusdb.md); MongoDB gives the same answer
                // either way.
                { "$expr": { "$lt": [{ "$toLong": "$expires_at" }, { "$toLong": "$$NOW" }] } },
            ],
        };
        let update = vec![doc! {
            "$set": {
                "owner": &self.owner,
                "expires_at": { "$add": ["$$NOW", ttl_ms] },
            }
        }];
        let result = self
            .coll
            .find_one_and_update(filter, update)
            .upsert(true)
            .return_document(ReturnDocument::After)
            .projection(doc! { "_id": 1 })
            .await;
        match result {
            Ok(doc) => Ok(doc.is_some()),
            // Held by another, unexpired: the filter missed and the upsert's insert collided.
            Err(e) if txn::is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
