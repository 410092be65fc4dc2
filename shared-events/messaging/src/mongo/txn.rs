//! Transactions on MongoDB: how they are started and committed, and what their errors mean.

use mongodb::error::{
    Error, ErrorKind, InsertManyError, WriteFailure, TRANSIENT_TRANSACTION_ERROR,
    UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::{ReadConcern, ReadPreference, SelectionCriteria, WriteConcern};
use mongodb::ClientSession;

use crate::consumer::HandlerError;

/// The server's `DuplicateKey` error code.
const DUPLICATE_KEY: i32 = 11000;

/// Commit attempts in all while the outcome of the previous one is unknown.
const COMMIT_ATTEMPTS: u32 = 3;

/// Starts a transaction that reads one snapshot and commits once a majority has the writes.
pub async fn begin(session: &mut ClientSession) -> mongodb::error::Result<()> {
    session
        .start_transaction()
        .read_concern(ReadConcern::snapshot())
        .write_concern(WriteConcern::majority())
        .selection_criteria(SelectionCriteria::ReadPreference(ReadPreference::Primary))
        .await
}

/// Commits, trying again while the server cannot say whether the previous attempt committed
/// (label `UnknownTransactionCommitResult`; retrying a commit is safe). If the outcome stays
/// unknown the error is returned: the caller runs the whole unit again, and the inbox makes a
/// commit that did happen show up as a duplicate.
pub async fn commit(session: &mut ClientSession) -> mongodb::error::Result<()> {
    let mut attempt = 1;
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(()),
            Err(e)
                if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                    && attempt < COMMIT_ATTEMPTS =>
            {
                tracing::warn!(attempt, error = %e, "MongoDB commit outcome unknown; committing again");
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Aborts the transaction in progress, if any. The server may already have aborted it (most
/// errors inside a transaction do); the driver ignores the server's answer to the abort.
pub async fn abort(session: &mut ClientSession) {
    if let Err(e) = session.abort_transaction().await {
        tracing::debug!(error = %e, "MongoDB abort of a transaction that was not in progress");
    }
}

/// Whether the whole transaction may succeed if run again (a write conflict, a failover...).
pub fn is_transient(e: &Error) -> bool {
    e.contains_label(TRANSIENT_TRANSACTION_ERROR)
}

/// Whether a write failed because a unique index already holds its key.
pub fn is_duplicate_key(e: &Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(InsertManyError {
            write_errors: Some(errors),
            ..
        }) => errors.iter().any(|w| w.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// A MongoDB error as a handler error, classified by
/// [`classify_mongo`](crate::consumer::classify): network and server-selection failures are
/// an unavailable store (retried without limit), labelled errors are transient, the rest
/// permanent.
pub(super) fn store_error(e: Error, doing: &str) -> HandlerError {
    HandlerError::classified(anyhow::Error::new(e).context(format!("MongoDB: {doing}")))
}

/// A handler's error, except that one caused by a transient transaction error (a write conflict
/// with a concurrent transaction, say) is transient even if the handler called it permanent:
/// running the event again is how such conflicts are resolved.
pub(super) fn handler_error(e: HandlerError) -> HandlerError {
    match e {
        HandlerError::Permanent(inner) if caused_by_transient(&inner) => {
            HandlerError::Transient(inner)
        }
        other => other,
    }
}

fn caused_by_transient(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<Error>())
        .any(is_transient)
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{doc, from_document};
    use mongodb::error::{CommandError, WriteError};

    use super::*;

    fn write_error(code: i32) -> Error {
        let w: WriteError = from_document(doc! { "code": code, "errmsg": "test" }).unwrap();
        ErrorKind::Write(WriteFailure::WriteError(w)).into()
    }

    fn command_error(code: i32) -> Error {
        let c: CommandError =
            from_document(doc! { "code": code, "codeName": "Test", "errmsg": "test" }).unwrap();
        ErrorKind::Command(c).into()
    }

    #[test]
    fn recognizes_duplicate_keys_only() {
        assert!(is_duplicate_key(&write_error(11000)));
        assert!(is_duplicate_key(&command_error(11000)));
        assert!(!is_duplicate_key(&write_error(112)));
        assert!(!is_duplicate_key(&command_error(112)));
    }

    #[test]
    fn unlabelled_errors_are_not_transient() {
        assert!(!is_transient(&command_error(112)));
        let permanent = HandlerError::permanent(anyhow::Error::new(command_error(112)));
        assert!(matches!(
            handler_error(permanent),
            HandlerError::Permanent(_)
        ));
        let business = HandlerError::permanent(anyhow::anyhow!("unknown order"));
        assert!(matches!(
            handler_error(business),
            HandlerError::Permanent(_)
        ));
    }
}
