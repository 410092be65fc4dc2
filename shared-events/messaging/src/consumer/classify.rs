//! Which store errors mean "a dependency is down" and which mean "this event can never apply".
//!
//! An **unavailable** dependency (connection refused or reset, pool timeout, server shutting
//! down) says nothing about the event: the runner retries it without limit, holding up only its
//! partition, so that an outage of any length dead-letters nothing. A **permanent** error
//! (a value PostgreSQL rejects, a constraint no retry can satisfy) goes to the dead-letter
//! topic at once. Everything else is **transient**: retried a bounded number of times.

/// What a store error amounts to for the event being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The store (or the network to it) is down or overloaded; retry without limit.
    Unavailable,
    /// May succeed on a later attempt: a lock conflict, data not yet arrived.
    Transient,
    /// Can never succeed for this event.
    Permanent,
}

/// Classifies an error by the first store error in its cause chain, if any.
pub fn classify(error: &anyhow::Error) -> ErrorClass {
    for cause in error.chain() {
        #[cfg(feature = "postgres")]
        if let Some(e) = cause.downcast_ref::<sqlx::Error>() {
            return classify_sqlx(e);
        }
        #[cfg(feature = "redis")]
        if let Some(e) = cause.downcast_ref::<redis::RedisError>() {
            return classify_redis(e);
        }
        #[cfg(feature = "mongodb")]
        if let Some(e) = cause.downcast_ref::<mongodb::error::Error>() {
            return classify_mongo(e);
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return ErrorClass::Unavailable;
        }
    }
    ErrorClass::Transient
}

/// sqlx: connection-level failures are unavailability; SQLSTATE decides the rest.
#[cfg(feature = "postgres")]
pub fn classify_sqlx(error: &sqlx::Error) -> ErrorClass {
    use sqlx::Error as E;
    match error {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            ErrorClass::Unavailable
        }
        // A reply cut off mid-message: the connection broke.
        E::Protocol(_) => ErrorClass::Unavailable,
        E::Database(db) => match db.code() {
            Some(code) => classify_sqlstate(&code),
            None => ErrorClass::Transient,
        },
        _ => ErrorClass::Transient,
    }
}

/// PostgreSQL's SQLSTATE classes (appendix A of its manual).
#[cfg(feature = "postgres")]
pub fn classify_sqlstate(code: &str) -> ErrorClass {
    match code {
        // Two writers raced on one key: the retry sees the winner's row.
        "23505" | "23P01" => ErrorClass::Transient,
        // Serialization failure, deadlock: retry.
        "40001" | "40P01" => ErrorClass::Transient,
        // admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped (a restart).
        "57P01" | "57P02" | "57P03" => ErrorClass::Unavailable,
        // read_only_sql_transaction: a standby promoted late, or a failover in progress.
        "25006" => ErrorClass::Unavailable,
        _ => match &code[..code.len().min(2)] {
            // connection_exception, insufficient_resources, system_error (I/O, disk full).
            "08" | "53" | "58" => ErrorClass::Unavailable,
            // data_exception, integrity_constraint_violation: the same statement fails again.
            "22" | "23" => ErrorClass::Permanent,
            _ => ErrorClass::Transient,
        },
    }
}

/// Redis: I/O, refused or dropped connections, timeouts and a server still loading or
/// failing over are unavailability.
#[cfg(feature = "redis")]
pub fn classify_redis(error: &redis::RedisError) -> ErrorClass {
    use redis::ErrorKind as K;
    if error.is_io_error()
        || error.is_connection_refusal()
        || error.is_connection_dropped()
        || error.is_timeout()
        || matches!(
            error.kind(),
            K::BusyLoadingError | K::TryAgain | K::ClusterDown | K::MasterDown
        )
    {
        ErrorClass::Unavailable
    } else {
        ErrorClass::Transient
    }
}

/// MongoDB: the driver's labels say what may be retried (its transactions and retryable-writes
/// specifications); network and server-selection failures are unavailability. Any other
/// server error (a duplicate key, a validation failure, an unsupported operation) is
/// permanent.
#[cfg(feature = "mongodb")]
pub fn classify_mongo(error: &mongodb::error::Error) -> ErrorClass {
    use mongodb::error::{ErrorKind, RETRYABLE_WRITE_ERROR, TRANSIENT_TRANSACTION_ERROR};
    match *error.kind {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. } => return ErrorClass::Unavailable,
        _ => {}
    }
    if error.contains_label(TRANSIENT_TRANSACTION_ERROR)
        || error.contains_label(mongodb::error::UNKNOWN_TRANSACTION_COMMIT_RESULT)
        || error.contains_label(RETRYABLE_WRITE_ERROR)
    {
        return ErrorClass::Transient;
    }
    ErrorClass::Permanent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn sqlstate_classes() {
        assert_eq!(classify_sqlstate("57P01"), ErrorClass::Unavailable);
        assert_eq!(classify_sqlstate("08006"), ErrorClass::Unavailable);
        assert_eq!(classify_sqlstate("53300"), ErrorClass::Unavailable);
        assert_eq!(classify_sqlstate("22003"), ErrorClass::Permanent);
        assert_eq!(classify_sqlstate("23514"), ErrorClass::Permanent);
        assert_eq!(classify_sqlstate("23505"), ErrorClass::Transient);
        assert_eq!(classify_sqlstate("40P01"), ErrorClass::Transient);
        assert_eq!(classify_sqlstate("42P01"), ErrorClass::Transient);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_pool_timeout_wrapped_in_context_is_unavailability() {
        use anyhow::Context;
        let e: Result<(), sqlx::Error> = Err(sqlx::Error::PoolTimedOut);
        let e = e.context("reserving stock").unwrap_err();
        assert_eq!(classify(&e), ErrorClass::Unavailable);
        assert_eq!(
            classify(&anyhow::anyhow!("a late upstream event")),
            ErrorClass::Transient
        );
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_refused_redis_connection_is_unavailability() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = redis::RedisError::from(io);
        assert_eq!(classify_redis(&e), ErrorClass::Unavailable);
        let e = redis::RedisError::from((redis::ErrorKind::TypeError, "wrong type"));
        assert_eq!(classify_redis(&e), ErrorClass::Transient);
    }
}
