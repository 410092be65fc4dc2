//! The store's errors at the HTTP boundary: a handler's `?` turns a [`StoreError`] into its
//! [`ApiError`].

use saga_kit::http::ApiError;

use crate::store::StoreError;

/// Redis failing is the service's failure, not the request's: 503 `unavailable` when Redis is
/// unreachable (refused, dropped, timed out), else 500 `internal`; both log the cause chain.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Redis(e) => ApiError::store(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use actix_web::http::StatusCode;

    use super::*;

    #[test]
    fn an_unreachable_redis_is_503_unavailable() {
        for kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::TimedOut,
        ] {
            let e = StoreError::from(redis::RedisError::from(io::Error::from(kind)));
            let api = ApiError::from(e);
            assert_eq!(
                (api.status, api.code.as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_command_redis_refuses_is_500_internal() {
        let refused = redis::RedisError::from((redis::ErrorKind::TypeError, "WRONGTYPE"));
        let api = ApiError::from(StoreError::from(refused));
        assert_eq!(
            (api.status, api.code.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        );
    }
}
