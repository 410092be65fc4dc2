//! Multi-document transactions for the steps the HTTP API starts (the saga's steps run in the
//! transaction `MongoIdempotent` opens): begin, commit, abort, what an error means, and running
//! a step again from the start while it fails in a way that a new attempt can fix (a write
//! conflict with a concurrent transaction, a failover).
//!
//! The runtime's equivalents in `shared_events::messaging::mongo` are private to it, so the few lines are
//! repeated here with the same settings: snapshot reads, majority writes, the primary.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::error::Error;
use mongodb::{ClientSession, Database};
use shared_events::HandlerError;

use crate::store::StoreError;

/// How long a step is tried again before its error is returned.
const RETRY_FOR: Duration = Duration::from_secs(30);
/// Why a step inside a transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Mongo(#[from] Error),
    /// A guarded write found the data changed since the transaction's snapshot.
    #[error("concurrent change: {0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StepError {
    /// Whether running the whole transaction again may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            StepError::Mongo(e) => is_transient(e),
            StepError::Conflict(_) => true,
            StepError::Store(_) => false,
        }
    }

    pub fn into_store_error(self) -> StoreError {
        match self {
            StepError::Mongo(e) => e.into(),
            StepError::Conflict(c) => {
                StoreError::Backend(anyhow::anyhow!("concurrent change: {c}"))
            }
            StepError::Store(e) => e,
        }
    }

    /// As a saga handler's error: conflicts are transient (the runner runs the event again);
    /// a driver error is classified by its labels and kind (an unreachable server is retried
    /// without limit, see `shared_events::messaging::consumer::classify`); data that contradicts itself
    /// is permanent.
    pub fn into_handler_error(self) -> HandlerError {
        match self {
            StepError::Mongo(e) => e.into(),
            StepError::Conflict(c) => {
                HandlerError::Transient(anyhow::anyhow!("concurrent change: {c}"))
            }
            StepError::Store(e) => e.into(),
        }
    }
}

impl From<anyhow::Error> for StepError {
    fn from(e: anyhow::Error) -> Self {
        StepError::Store(StoreError::Backend(e))
    }
}

impl From<crate::domain::StockError> for StepError {
    fn from(e: crate::domain::StockError) -> Self {
        StepError::Store(e.into())
    }
}

/// Work done inside one transaction. It must pass the session to every operation and neither
/// commit nor abort.
#[async_trait]
pub trait Step: Send + Sync {
    type Output: Send;
    async fn run(
        &self,
        session: &mut ClientSession,
        db: &Database,
    ) -> Result<Self::Output, StepError>;
}

/// Runs `step` in a transaction and commits it, running it again from the start (new session,
/// new snapshot) while it fails in a retryable way, for up to [`RETRY_FOR`].
pub async fn run<S: Step>(db: &Database, step: &S) -> Result<S::Output, StoreError> {
    let started = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let error = match attempt_once(db, step).await {
            Ok(output) => return Ok(output),
            Err(e) => e,
        };
        if !error.retryable() || started.elapsed() > RETRY_FOR {
            return Err(error.into_store_error());
        }
        tracing::debug!(attempt, error = %error, "MongoDB transaction conflict; running it again");
        tokio::time::sleep(backoff(attempt)).await;
    }
}

async fn attempt_once<S: Step>(db: &Database, step: &S) -> Result<S::Output, StepError> {
    let mut session = db.client().start_session().await?;
    begin(&mut session).await?;
    match step.run(&mut session, db).await {
        Ok(output) => {
            commit(&mut session).await?;
            Ok(output)
        }
        Err(e) => {
            abort(&mut session).await;
            Err(e)
        }
    }
}

/// Doubling from 5 ms up to 200 ms, with up to half of it random, so that conflicting
/// transactions spread out instead of colliding again.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(5).saturating_mul(1 << attempt.min(6).saturating_sub(1));
    let base = base.min(Duration::from_millis(200));
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 2000.0;
    base.mul_f64(1.0 - jitter)
}

pub use shared_events::messaging::mongo::txn::{
    abort, begin, commit, is_duplicate_key, is_transient,
};

#[cfg(test)]
mod tests {
    use mongodb::bson::{doc, from_document};
    use mongodb::error::{CommandError, ErrorKind, WriteError, WriteFailure};

    use super::*;

    fn write_error(code: i32) -> Error {
        let w: WriteError = from_document(doc! { "code": code, "errmsg": "test" }).unwrap();
        ErrorKind::Write(WriteFailure::WriteError(w)).into()
    }

    #[test]
    fn duplicate_keys_are_recognized_and_not_retried() {
        assert!(is_duplicate_key(&write_error(11000)));
        assert!(!is_duplicate_key(&write_error(112)));
        let c: CommandError =
            from_document(doc! { "code": 11000, "codeName": "DuplicateKey", "errmsg": "x" })
                .unwrap();
        assert!(is_duplicate_key(&ErrorKind::Command(c).into()));
        assert!(!StepError::Mongo(write_error(11000)).retryable());
    }

    #[test]
    fn conflicts_are_retried_and_store_errors_are_not() {
        assert!(StepError::Conflict("x".into()).retryable());
        assert!(!StepError::Store(StoreError::SkuExists(
            crate::domain::Sku::parse("a").unwrap()
        ))
        .retryable());
        assert!(matches!(
            StepError::Conflict("x".into()).into_handler_error(),
            HandlerError::Transient(_)
        ));
        assert!(matches!(
            StepError::Store(StoreError::Stock(crate::domain::StockError::TooLarge))
                .into_handler_error(),
            HandlerError::Permanent(_)
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(5));
        assert!(backoff(1) >= Duration::from_micros(2500));
        for attempt in 1..50 {
            assert!(backoff(attempt) <= Duration::from_millis(200));
        }
        assert!(backoff(20) >= Duration::from_millis(80));
    }
}
