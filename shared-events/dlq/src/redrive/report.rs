//! What a redrive did, or would do: the letters sent (and where the broker put them), those
//! skipped and why. The CLI renders it as text or JSON, so it serializes.

use serde::Serialize;

/// What a redrive did (or, for [`plan_redrive`], would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RedriveReport {
    /// True when nothing was sent: the report is a plan.
    pub dry_run: bool,
    /// The letters sent (or to be sent), in the order they were sent.
    pub sent: Vec<Redriven>,
    /// The selected letters that were not sent, and why.
    pub skipped: Vec<Skipped>,
}

/// A letter sent back to its topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redriven {
    /// The letter's id, also in the new record's `dlq.redriven_from` header.
    pub id: String,
    /// Its event id, if its payload had one.
    pub event_id: Option<String>,
    /// The topic it was sent to.
    pub topic: String,
    /// Where the broker put the new record (`None` in a dry run).
    pub partition: Option<i32>,
    /// Its offset there (`None` in a dry run).
    pub offset: Option<i64>,
}

/// A selected letter that was not sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// The letter's id.
    pub id: String,
    /// Its event id, if its payload had one.
    pub event_id: Option<String>,
    /// Why it was not sent.
    pub reason: SkipReason,
}

/// Why a letter cannot be redriven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// A cut-down copy (`dlq.payload_truncated`): its payload is only the start of the
    /// original, which is in the runtime's log alone.
    Truncated {
        /// The original payload's size in bytes.
        original_size: usize,
    },
    /// The record has no payload: there is no event to send.
    NoPayload,
    /// Its original topic is not an event topic of this namespace; sending there could feed
    /// another namespace's consumers.
    ForeignTopic {
        /// The topic it would have gone to.
        topic: String,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Truncated { original_size } => write!(
                f,
                "a cut-down copy (the original payload was {original_size} bytes)"
            ),
            SkipReason::NoPayload => f.write_str("no payload"),
            SkipReason::ForeignTopic { topic } => {
                write!(f, "its original topic {topic} is not of this namespace")
            }
        }
    }
}
