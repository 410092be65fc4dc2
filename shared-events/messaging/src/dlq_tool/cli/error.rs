//! Why the tool did not do what it was asked, and the exit code each failure maps to: 2 for
//! bad usage (arguments, a topic not of the namespace, invalid `KAFKA_*` settings), 1 for a
//! failure (the broker unreachable, nothing matching an id).

use crate::config::KafkaConfig;
use crate::dlq_tool::DlqToolError;

/// Why the tool did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments or settings make no sense; exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Nothing matched an id or event id; exit code 1.
    #[error("no dead letter with {what} `{target}` in namespace `{prefix}`")]
    NotFound {
        /// "id or event id", "id" or "event id".
        what: &'static str,
        /// What was looked for.
        target: String,
        /// The namespace searched (`KAFKA_TOPIC_PREFIX`).
        prefix: String,
    },
    /// Reading or redriving failed; exit code 1.
    #[error(transparent)]
    Tool(#[from] DlqToolError),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Tool(DlqToolError::UnknownTopic { .. }) => 2,
            CliError::NotFound { .. } | CliError::Tool(_) => 1,
        }
    }
}

/// A usage error saying `message`.
pub(super) fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
}

/// Nothing in the namespace of `config` has `what` (an id, an event id) equal to `target`.
pub(super) fn not_found(what: &'static str, target: String, config: &KafkaConfig) -> CliError {
    CliError::NotFound {
        what,
        target,
        prefix: config.topic_prefix.clone(),
    }
}
