//! Why the tool did not do what it was asked, and the exit code each failure maps to, as clap
//! maps its own: 2 for bad usage (besides the arguments clap refuses: a topic not of the
//! namespace, invalid `KAFKA_*` settings), 1 for a failure (the broker unreachable, nothing
//! matching an id).

use saga_messaging::config::KafkaConfig;
use saga_messaging::env::ConfigError;

use crate::DlqToolError;

/// Why the tool did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The `KAFKA_*` settings cannot be used (a value that does not parse, a password file
    /// that cannot be read); exit code 2.
    #[error("the Kafka settings: {0}")]
    Settings(#[from] ConfigError),
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
    /// Reading or redriving failed (exit code 1), or a topic named is not of the namespace
    /// (exit code 2).
    #[error(transparent)]
    Tool(#[from] DlqToolError),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Settings(_) | CliError::Tool(DlqToolError::UnknownTopic { .. }) => 2,
            CliError::NotFound { .. } | CliError::Tool(_) => 1,
        }
    }

    /// The message and every cause not already in it, on one line.
    pub fn chain(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(&format!(": {text}"));
            }
            source = cause.source();
        }
        message
    }
}

/// Nothing in the namespace of `config` has `what` (an id, an event id) equal to `target`.
pub(super) fn not_found(what: &'static str, target: String, config: &KafkaConfig) -> CliError {
    CliError::NotFound {
        what,
        target,
        prefix: config.topic_prefix.clone(),
    }
}
