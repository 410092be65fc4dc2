//! A failed call to one of the APIs, and the result type every call returns.

/// A failed call: an HTTP error status with the SPEC's error body, or no answer at all.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// The service answered with a status outside 2xx, or a 2xx body that did not parse.
    Status {
        /// The HTTP status.
        status: u16,
        /// The SPEC's error code (the body's `error.code`; empty if it has none): what the
        /// suites match on.
        code: String,
        /// The whole body, for messages.
        body: String,
    },
    /// No answer: the connection failed or timed out, or the body could not be read.
    Transport(String),
}

impl ApiError {
    pub fn is(&self, status: u16, code: &str) -> bool {
        matches!(self, ApiError::Status { status: s, code: c, .. } if *s == status && c == code)
    }

    /// Worth retrying: no answer (the service is down or restarting) or a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport(_) => true,
            ApiError::Status { status, .. } => *status >= 500,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Status { status, body, .. } => write!(f, "HTTP {status}: {body}"),
            ApiError::Transport(e) => write!(f, "no answer: {e}"),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
