//! Multi-document transactions for the steps the HTTP API starts (the saga's steps run in the
//! transaction the runtime's `MongoInbox` opens): what a step's error means, and running it
//! with the runtime's [`with_transaction`], which runs it again while it conflicts with a
//! concurrent transaction, as the saga's path does.

use async_trait::async_trait;
use mongodb::error::Error;
use mongodb::{ClientSession, Database};
use saga_messaging::mongo::{is_conflict_error, with_transaction, Conflict, Unit};
use saga_messaging::HandlerError;

use crate::store::StoreError;

/// Why a step inside a transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The driver failed: a conflict, an unreachable server, a server error.
    #[error(transparent)]
    Mongo(#[from] Error),
    /// A guarded write found the data changed since the transaction's snapshot.
    #[error("concurrent change: {0}")]
    Conflict(String),
    /// What the request or event asks contradicts the data (an unknown SKU, too little stock).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StepError {
    /// Whether running the whole transaction again may succeed soon: a conflict with a
    /// concurrent transaction (never an unreachable server, which is waited for elsewhere).
    pub fn retryable(&self) -> bool {
        match self {
            StepError::Mongo(e) => is_conflict_error(e),
            StepError::Conflict(_) => true,
            StepError::Store(_) => false,
        }
    }

    /// As the store port's error, for the HTTP handlers.
    pub fn into_store_error(self) -> StoreError {
        match self {
            StepError::Mongo(e) => e.into(),
            StepError::Conflict(c) => StoreError::Backend(Conflict(c).into()),
            StepError::Store(e) => e,
        }
    }

    /// As a saga handler's error: a conflict is transient, and `MongoInbox` runs the event
    /// again in place (it finds [`Conflict`] in the chain); a driver error is classified by its
    /// labels and kind (an unreachable server is retried without limit, see
    /// `saga_messaging::consumer::classify`); data that contradicts itself is
    /// permanent.
    pub fn into_handler_error(self) -> HandlerError {
        match self {
            StepError::Mongo(e) => e.into(),
            StepError::Conflict(c) => HandlerError::Transient(Conflict(c).into()),
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

/// A step with the database it runs on, as the runtime's unit of a transaction.
struct OnDatabase<'a, S> {
    db: &'a Database,
    step: &'a S,
}

#[async_trait]
impl<S: Step> Unit for OnDatabase<'_, S> {
    type Output = S::Output;
    type Error = StepError;

    async fn run(&self, session: &mut ClientSession) -> Result<S::Output, StepError> {
        self.step.run(session, self.db).await
    }

    fn conflicted(error: &StepError) -> bool {
        error.retryable()
    }
}

/// Runs `step` in a transaction and commits it, running it again from the start (new
/// snapshot) while it conflicts, for up to the runtime's `RETRY_FOR`.
pub async fn run<S: Step>(db: &Database, step: &S) -> Result<S::Output, StoreError> {
    with_transaction(db.client(), &OnDatabase { db, step })
        .await
        .map_err(StepError::into_store_error)
}

pub use saga_messaging::mongo::txn::{is_duplicate_key, is_transient};

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
        match StepError::Conflict("x".into()).into_handler_error() {
            HandlerError::Transient(e) => {
                assert!(saga_messaging::mongo::is_conflict(&e), "{e:#}")
            }
            other => panic!("a conflict must be transient: {other:?}"),
        }
        assert!(matches!(
            StepError::Store(StoreError::Stock(crate::domain::StockError::TooLarge))
                .into_handler_error(),
            HandlerError::Permanent(_)
        ));
    }
}
