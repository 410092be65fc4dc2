//! Running a unit of work in one MongoDB transaction, and running it again from the start while
//! it fails in a way a new attempt can fix: a write conflict with a concurrent transaction, or a
//! guarded write that found its data changed since the snapshot ([`Conflict`]).
//!
//! Both paths that write inside transactions use it: the saga's (the inbox document and the
//! handler's effect, [`super::MongoInbox`]) and a service's HTTP requests (inventory's
//! reservations and restocks). On a hot document, concurrent transactions conflict rather than
//! queue as they would on a PostgreSQL row lock, so a conflict is routine, not a failure: it is
//! retried here, with a growing, jittered backoff, for up to [`RETRY_FOR`], instead of going back
//! to the consumer runner, whose transient budget is for failures that need time (an event that
//! arrived before the one it depends on). An unreachable server is not retried here: its error
//! goes back at once, to the runner's unlimited wait for the store, which `/ready` reports.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use mongodb::error::{Error, ErrorKind};
use mongodb::{Client, ClientSession};

use super::txn;

/// How long a unit is run again while it conflicts before its error is returned.
pub const RETRY_FOR: Duration = Duration::from_secs(120);
/// The first backoff after a conflict; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// The longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A guarded write (an update whose filter checks the value the transaction read) matched
/// nothing: another transaction changed the document after this one's snapshot. Running the
/// unit again, on a new snapshot, resolves it, as MongoDB's own write conflicts are resolved.
#[derive(Debug, thiserror::Error)]
#[error("concurrent change: {0}")]
pub struct Conflict(pub String);

/// Work done inside one transaction: every operation passes `session`, and the unit neither
/// commits nor aborts. It may run several times, so it must not keep state across attempts.
#[async_trait]
pub trait Unit: Send + Sync {
    /// What a committed attempt returns.
    type Output: Send;
    /// Why an attempt failed; a failed commit becomes one too.
    type Error: Send + From<Error>;

    /// Runs the work on `session`, whose transaction is started.
    async fn run(&self, session: &mut ClientSession) -> Result<Self::Output, Self::Error>;

    /// Whether `error` is a conflict that a new attempt may not meet (see
    /// [`is_conflict_error`] and [`is_conflict`]).
    fn conflicted(error: &Self::Error) -> bool;
}

/// Runs `unit` in a transaction ([`txn::begin`]) and commits it ([`txn::commit`]). While an
/// attempt fails with a conflict, the transaction is aborted and the unit run again after a
/// backoff, for up to [`RETRY_FOR`]; any other error is returned after the abort.
pub async fn with_transaction<U: Unit>(client: &Client, unit: &U) -> Result<U::Output, U::Error> {
    let mut session = client.start_session().await?;
    let started = Instant::now();
    let mut attempt: u32 = 1;
    loop {
        let error = match attempt_once(&mut session, unit).await {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        if !U::conflicted(&error) || started.elapsed() >= RETRY_FOR {
            return Err(error);
        }
        tracing::debug!(attempt, "MongoDB transaction conflicted; running it again");
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

async fn attempt_once<U: Unit>(
    session: &mut ClientSession,
    unit: &U,
) -> Result<U::Output, U::Error> {
    txn::begin(session).await?;
    // A dropped future (shutdown) leaves the transaction to the session's drop, which aborts it.
    match unit.run(session).await {
        Ok(output) => {
            txn::commit(session).await?;
            Ok(output)
        }
        Err(e) => {
            txn::abort(session).await;
            Err(e)
        }
    }
}

/// Whether a driver error is a conflict worth another attempt: labelled
/// `TransientTransactionError` (a write conflict, a transaction aborted by the server, a
/// failover) and not a failure to reach the server, which is the store being unavailable.
pub fn is_conflict_error(e: &Error) -> bool {
    let unreachable = matches!(
        *e.kind,
        ErrorKind::Io(_)
            | ErrorKind::ServerSelection { .. }
            | ErrorKind::ConnectionPoolCleared { .. }
    );
    txn::is_transient(e) && !unreachable
}

/// Whether any cause in `error`'s chain is a conflict: a driver error that
/// [`is_conflict_error`] accepts, or a [`Conflict`].
pub fn is_conflict(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<Conflict>().is_some()
            || cause.downcast_ref::<Error>().is_some_and(is_conflict_error)
    })
}

/// Doubling from [`FIRST_BACKOFF`] up to [`MAX_BACKOFF`], less up to half of it at random, so that
/// transactions that conflicted spread out instead of colliding again.
fn backoff(attempt: u32) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(1 << attempt.clamp(1, 16).saturating_sub(1));
    let base = doubled.min(MAX_BACKOFF);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 2000.0;
    base.mul_f64(1.0 - jitter)
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{doc, from_document};
    use mongodb::error::CommandError;

    use super::*;

    // The driver alone attaches labels to its errors, so the labelled cases (a write conflict
    // is retried, a network error is not) are tested against a server: `tests/mongo.rs`.

    #[test]
    fn an_unlabelled_server_error_is_not_a_conflict() {
        let c: CommandError =
            from_document(doc! { "code": 11000, "codeName": "DuplicateKey", "errmsg": "x" })
                .unwrap();
        let e: Error = ErrorKind::Command(c).into();
        assert!(!is_conflict_error(&e));
        assert!(!is_conflict(&anyhow::Error::new(e).context("inserting")));
    }

    #[test]
    fn a_guarded_write_conflict_is_found_anywhere_in_a_chain() {
        let guarded = anyhow::Error::new(Conflict("stock of a".into())).context("reserving");
        assert!(is_conflict(&guarded));
        assert!(!is_conflict(&anyhow::anyhow!("unknown order")));
    }

    #[test]
    fn backoff_grows_to_a_second_and_stays_there() {
        assert!(backoff(1) <= FIRST_BACKOFF && backoff(1) >= FIRST_BACKOFF / 2);
        for attempt in 1..100 {
            assert!(backoff(attempt) <= MAX_BACKOFF, "attempt {attempt}");
        }
        assert!(backoff(20) >= MAX_BACKOFF / 2);
        assert!(backoff(4) > backoff(1));
    }
}
