//! `dlq`, the operator's view of the dead-letter topics: list what is in them, show one letter
//! in full, and redrive letters to the topic they came from. This crate is the tool's library
//! and its binary (`src/main.rs`).
//!
//! It depends on the contracts (`saga-contracts`) and the messaging runtime (`saga-messaging`:
//! the Kafka settings, the `dlq.*` headers the consumer writes), and on nothing of the service
//! kit or the services; no service links it.
//!
//! - [`read_all`] reads every `<prefix><event type>.dlq` topic of the namespace from its low to
//!   its high watermark, with a consumer that joins no group and commits nothing, so looking
//!   changes nothing on the broker. Topics of other namespaces are never read.
//! - [`redrive`] sends selected letters back to their original topic with their original key,
//!   their original headers (the `dlq.*` ones removed) and a `dlq.redriven_from` header naming
//!   the letter. Consumers are idempotent by `event_id` (their inbox), so a letter redriven
//!   twice, or one whose event had got through after all, is applied at most once. Cut-down
//!   copies (`dlq.payload_truncated`) are refused: their payload is not the event.
//! - A redriven letter stays in its DLQ topic: the topic is a log, not a queue. The
//!   `dlq.redriven_from` header on the new record links the two.
//! - [`render`] formats letters for a terminal and for scripts (`--json`); [`cli`] is the
//!   binary's command line (clap) and its three commands.

#![warn(missing_docs)]

mod bytes;
pub mod cli;
mod error;
#[cfg(test)]
mod fixture;
mod letter;
mod namespace;
mod read;
mod redrive;
pub mod render;
mod select;

pub use error::DlqToolError;
pub use letter::DeadLetter;
pub use namespace::{dlq_topics_of, resolve_dlq_topic};
pub use read::{read_all, read_topic};
pub use redrive::{plan_redrive, redrive, RedriveReport, Redriven, SkipReason, Skipped};
pub use select::Selection;

/// The header a redriven record carries: the id of the letter it was sent from.
pub const HEADER_REDRIVEN_FROM: &str = "dlq.redriven_from";

/// How long the tool waits for the broker (metadata, watermarks, a stalled read) before it
/// gives up with an error: an operator at a terminal is told, not left waiting.
pub const BROKER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
