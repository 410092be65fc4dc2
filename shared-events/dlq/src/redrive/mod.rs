//! Redrive: send dead letters back to the topic they came from, as they were, so the
//! consumers try them again (after the bug that rejected them is fixed, say).
//!
//! Each letter goes to its `dlq.original_topic` with its original key (so to the same
//! partition, and after what its key has had since), its payload, and its original headers
//! (`event_type`, `traceparent`, ...) without the `dlq.*` ones, plus `dlq.redriven_from`
//! naming the letter. The producer is the services' (acks=all, idempotent), and every send is
//! acknowledged before the report is returned. Consumers apply an event at most once (the
//! inbox, by `event_id`), so redriving a letter twice, or one whose event got through after
//! all, does no harm. Letters are refused, and reported, when redriving cannot be right: a
//! cut-down copy (its payload is not the event), one without a payload, and one whose original
//! topic is not an event topic of this namespace.

//!
//! `plan` chooses the letters (the selection, then the refusals) and is all a dry run does;
//! `send` publishes the chosen ones and waits for the broker; `report` is what both return.

mod plan;
mod report;
mod send;

pub use plan::plan_redrive;
pub use report::{RedriveReport, Redriven, SkipReason, Skipped};
pub use send::redrive;
