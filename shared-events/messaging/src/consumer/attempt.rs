//! One message's handling: decode it (its `traceparent` header included), call the handler
//! in the message's span, retry by the policy, catch a panicking handler, count it all in the
//! metrics, and dead-letter what can never be handled.
//!
//! Transient failures and an unavailable dependency are retried apart: only the transient
//! ones count against the policy's attempts, so an outage, however long, leaves the whole
//! budget to the failures that follow it.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::message::{Headers, Message, OwnedMessage};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::dlq::{self, DeadLetter, DlqReason};
use super::grace::{within_grace, GRACE};
use super::{event_span, HandlerError, MessageEnd, RetryPolicy, WorkerContext};
use crate::metrics;
use crate::producer::HEADER_TRACEPARENT;
use saga_contracts::envelope::{DecodeError, Envelope};
use saga_contracts::events::EventType;

/// Handles one message. `stop` is its worker's: once it is cancelled, retries stop, and a
/// handler call or dead letter under way gets [`GRACE`] to finish.
pub(super) async fn process(
    ctx: &WorkerContext,
    stop: &CancellationToken,
    message: &OwnedMessage,
) -> MessageEnd {
    let topic = message.topic();
    let Some(expected) = ctx.config.event_type_of(topic) else {
        tracing::error!(topic, "message from a topic this runner does not know");
        return MessageEnd::Done;
    };
    let event = match decode(message, expected) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(topic, offset = message.offset(), error = %e, "undecodable message; dead-lettering");
            let letter = Letter {
                reason: DlqReason::Undecodable,
                error: e.to_string(),
                attempts: 0,
            };
            return dead_letter(ctx, stop, message, expected, letter).await;
        }
    };
    let span = event_span(&event);
    span.record("partition", message.partition());
    span.record("offset", message.offset());
    let mut tries = Tries::default();
    loop {
        tries.calls += 1;
        let started = Instant::now();
        let call =
            AssertUnwindSafe(ctx.handler.handle(&event).instrument(span.clone())).catch_unwind();
        let Some(result) = within_grace(stop, GRACE, call).await else {
            span.in_scope(|| {
                tracing::warn!(
                    grace_ms = GRACE.as_millis() as u64,
                    "the handler did not finish within the grace after the worker was told to stop; \
                     the message is left for the partition's next owner"
                )
            });
            return MessageEnd::Interrupted;
        };
        let result = result.unwrap_or_else(|panic| {
            Err(HandlerError::Permanent(anyhow::anyhow!(
                "handler panicked: {}",
                panic_text(panic.as_ref())
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
                // as it takes; the backoff stays at the policy's cap. These retries are
                // counted apart: an outage never spends the transient budget.
                let pause = tries.unavailable(&ctx.retry);
                metrics::UNAVAILABLE_RETRIES
                    .with_label_values(&[expected.as_str()])
                    .inc();
                if tries.unavailable == 1 || pause >= ctx.retry.max_backoff.mul_f64(0.8) {
                    span.in_scope(|| {
                        tracing::warn!(attempt = tries.calls, unavailable = tries.unavailable, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "a dependency is unavailable; retrying until it is back")
                    });
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = stop.cancelled() => return MessageEnd::Interrupted,
                }
            }
            Err(HandlerError::Transient(e)) => match tries.transient(&ctx.retry) {
                None => (DlqReason::RetriesExhausted, e),
                Some(pause) => {
                    span.in_scope(|| {
                        tracing::info!(attempt = tries.calls, transient = tries.transient, error = %format!("{e:#}"), retry_in_ms = pause.as_millis() as u64, "transient failure; retrying")
                    });
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => continue,
                        _ = stop.cancelled() => return MessageEnd::Interrupted,
                    }
                }
            },
        };
        let error = format!("{error:#}");
        span.in_scope(|| tracing::error!(attempt = tries.calls, transient = tries.transient, error = %error, reason = reason.as_str(), "dead-lettering event"));
        let letter = Letter {
            reason,
            error,
            attempts: tries.calls,
        };
        return dead_letter(ctx, stop, message, expected, letter).await;
    }
}

/// What a message's handler calls have come to so far. The transient failures alone make up
/// the retry budget ([`super::RetryPolicy::max_attempts`]) and set the transient backoff; the
/// unavailable ones are retried without limit, with their own backoff.
#[derive(Debug, Default)]
struct Tries {
    /// Handler calls in all: what a dead letter's `dlq.attempts` reports.
    calls: u32,
    /// Calls that failed transiently.
    transient: u32,
    /// Calls that found a dependency unavailable.
    unavailable: u32,
}

impl Tries {
    /// Counts a transient failure: the pause before the next call, or `None` when the
    /// transient failures have used up the policy's attempts.
    fn transient(&mut self, policy: &RetryPolicy) -> Option<Duration> {
        self.transient += 1;
        policy.after_transient(self.transient)
    }

    /// Counts a call that found a dependency unavailable: the pause before the next call,
    /// growing to the policy's cap and staying there.
    fn unavailable(&mut self, policy: &RetryPolicy) -> Duration {
        self.unavailable += 1;
        policy.backoff(self.unavailable)
    }
}

/// The text of a caught panic: its message if it has one.
pub(super) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
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

/// Why a message is given up on, for its dead letter's `dlq.*` headers.
struct Letter {
    /// The reason, as the `dlq.reason` header says it.
    reason: DlqReason,
    /// The handler's or the decoder's error, as text.
    error: String,
    /// How many times the handler was called (0 for an undecodable message).
    attempts: u32,
}

/// Counts the dead letter and publishes it to the dead-letter topic of `event_type`.
async fn dead_letter(
    ctx: &WorkerContext,
    stop: &CancellationToken,
    message: &OwnedMessage,
    event_type: EventType,
    letter: Letter,
) -> MessageEnd {
    metrics::EVENTS_DEAD_LETTERED
        .with_label_values(&[event_type.as_str(), letter.reason.as_str()])
        .inc();
    let letter = DeadLetter {
        message,
        dlq_topic: ctx.config.dlq_topic(event_type),
        reason: letter.reason,
        error: letter.error,
        attempts: letter.attempts,
        group_id: &ctx.group_id,
    };
    dlq::publish(&ctx.producer, letter, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
        }
    }

    /// Simulates the handler's calls: `true` for a transient failure, `false` for an
    /// unavailable dependency; whether the message is still retried after them.
    fn still_retried(tries: &mut Tries, failures: &[bool]) -> bool {
        failures.iter().all(|&transient| {
            tries.calls += 1;
            if transient {
                tries.transient(&policy()).is_some()
            } else {
                tries.unavailable(&policy());
                true
            }
        })
    }

    #[test]
    fn an_outage_spends_none_of_the_transient_budget() {
        let mut tries = Tries::default();
        let outage = [false; 100];
        assert!(still_retried(&mut tries, &outage));
        // The whole budget is left: 3 attempts, so two transient failures are retried...
        assert!(still_retried(&mut tries, &[true, true]));
        // ... and an outage between them changes nothing.
        let mut tries = Tries::default();
        assert!(still_retried(&mut tries, &[true, false, false, true]));
        // The third transient failure is the last.
        assert!(!still_retried(&mut tries, &[true]));
        assert_eq!((tries.calls, tries.transient, tries.unavailable), (5, 3, 2));
    }

    #[test]
    fn each_kind_of_failure_backs_off_on_its_own_count() {
        let p = policy();
        let mut tries = Tries::default();
        for _ in 0..50 {
            let pause = tries.unavailable(&p);
            assert!(pause <= p.max_backoff, "the outage's pause is capped");
        }
        // The first transient failure after a long outage waits the initial backoff, not the
        // cap.
        let first = tries.transient(&p).unwrap();
        assert!(first <= p.initial_backoff, "{first:?}");
    }
}
