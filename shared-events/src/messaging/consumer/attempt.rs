//! One message's handling: decode it (its `traceparent` header included), call the handler
//! in the message's span, retry by the policy, catch a panicking handler, count it all in the
//! metrics, and dead-letter what can never be handled.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use rdkafka::message::{Headers, Message, OwnedMessage};
use tracing::Instrument;

use super::dlq::{self, DeadLetter, DlqReason};
use super::worker::WorkerContext;
use super::HandlerError;
use crate::contracts::envelope::{DecodeError, Envelope};
use crate::contracts::events::EventType;
use crate::messaging::metrics;
use crate::messaging::producer::HEADER_TRACEPARENT;

/// How handling one message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MessageEnd {
    /// The message is done with (applied, duplicate or dead-lettered): its offset may be
    /// stored and the partition move on.
    Done,
    /// Shutdown interrupted it: its offset must not be stored, so the partition's next owner
    /// handles it again.
    Interrupted,
}

/// Handles one message.
pub(super) async fn process(ctx: &WorkerContext, message: &OwnedMessage) -> MessageEnd {
    let topic = message.topic();
    let Some(expected) = ctx.config.event_type_of(topic) else {
        tracing::error!(topic, "message from a topic this runner does not know");
        return MessageEnd::Done;
    };
    let event = match decode(message, expected) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(topic, offset = message.offset(), error = %e, "undecodable message; dead-lettering");
            return dead_letter(
                ctx,
                message,
                expected,
                DlqReason::Undecodable,
                e.to_string(),
                0,
            )
            .await;
        }
    };
    let span = super::event_span(&event);
    span.record("partition", message.partition());
    span.record("offset", message.offset());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let result = AssertUnwindSafe(ctx.handler.handle(&event).instrument(span.clone()))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let text = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "handler panicked".into());
                Err(HandlerError::Permanent(anyhow::anyhow!(
                    "handler panicked: {text}"
                )))
            });
        metrics::HANDLE_SECONDS
            .with_label_values(&[expected.as_str()])
            .observe(started.elapsed().as_secs_f64());
        let (reason, error) = match result.map_err(HandlerError::reclassified) {
            Ok(outcome) => {
                metrics::EVENTS_HANDLED
                    .with_label_values(&[expected.as_str(), outcome.as_str()])
                    .inc();
                span.in_scope(|| tracing::debug!(outcome = outcome.as_str(), "event handled"));
                return MessageEnd::Done;
            }
            Err(HandlerError::Permanent(e)) => (DlqReason::Permanent, e),
            Err(HandlerError::Unavailable(e)) => {
                // A dependency is down: nothing is wrong with the event. Wait for it as long
                // as it takes; the backoff stays at the policy's cap.
                let pause = ctx.retry.backoff(attempt);
                metrics::UNAVAILABLE_RETRIES
                    .with_label_values(&[expected.as_str()])
                    .inc();
                if attempt == 1 || pause >= ctx.retry.max_backoff.mul_f64(0.8) {
                    span.in_scope(|| {
                        tracing::warn!(attempt, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "a dependency is unavailable; retrying until it is back")
                    });
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = ctx.shutdown.cancelled() => return MessageEnd::Interrupted,
                }
            }
            Err(HandlerError::Transient(e)) if attempt >= ctx.retry.max_attempts => {
                (DlqReason::RetriesExhausted, e)
            }
            Err(HandlerError::Transient(e)) => {
                let pause = ctx.retry.backoff(attempt);
                span.in_scope(|| {
                    tracing::info!(attempt, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "transient failure; retrying")
                });
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = ctx.shutdown.cancelled() => return MessageEnd::Interrupted,
                }
            }
        };
        let error = format!("{error:#}");
        span.in_scope(|| tracing::error!(attempt, error = %error, reason = reason.as_str(), "dead-lettering event"));
        return dead_letter(ctx, message, expected, reason, error, attempt).await;
    }
}

/// The event in `message`, which must be of the type `expected` on its topic, with the trace
/// context of its `traceparent` header (a missing or malformed one is no trace, not an error).
pub(super) fn decode(message: &OwnedMessage, expected: EventType) -> Result<Envelope, DecodeError> {
    let body = message.payload().unwrap_or_default();
    let mut event = Envelope::decode(body)?;
    if event.event_type() != expected {
        return Err(DecodeError::UnknownEventType(format!(
            "{} (on topic {})",
            event.event_type(),
            message.topic()
        )));
    }
    event.traceparent = message.headers().and_then(|headers| {
        headers
            .iter()
            .find(|h| h.key == HEADER_TRACEPARENT)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse().ok())
    });
    Ok(event)
}

/// Counts the dead letter and publishes it to the dead-letter topic of `event_type`.
async fn dead_letter(
    ctx: &WorkerContext,
    message: &OwnedMessage,
    event_type: EventType,
    reason: DlqReason,
    error: String,
    attempts: u32,
) -> MessageEnd {
    metrics::EVENTS_DEAD_LETTERED
        .with_label_values(&[event_type.as_str(), reason.as_str()])
        .inc();
    let letter = DeadLetter {
        message,
        dlq_topic: ctx.config.dlq_topic(event_type),
        reason,
        error,
        attempts,
        group_id: &ctx.group_id,
    };
    dlq::publish(&ctx.producer, letter, &ctx.shutdown).await
}
