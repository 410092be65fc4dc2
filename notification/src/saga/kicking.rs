//! [`Kicking`]: wakes the delivery dispatcher once an event's writes are committed, so that a
//! new notification goes out at once rather than at the dispatcher's next poll.

use std::sync::Arc;

use async_trait::async_trait;
use saga_contracts::Envelope;
use saga_messaging::{Handler, HandlerError, Outcome};
use tokio::sync::Notify;

/// A [`Handler`] that rings `kick` after `inner` applied an event (not for a duplicate).
pub struct Kicking<H> {
    /// The handler that applies the event.
    inner: H,
    /// The dispatcher's bell.
    kick: Arc<Notify>,
}

impl<H> Kicking<H> {
    /// `inner`, ringing `kick` after each applied event.
    pub fn new(inner: H, kick: Arc<Notify>) -> Self {
        Kicking { inner, kick }
    }
}

#[async_trait]
impl<H: Handler> Handler for Kicking<H> {
    async fn handle(&self, event: &Envelope) -> Result<Outcome, HandlerError> {
        let outcome = self.inner.handle(event).await?;
        if outcome == Outcome::Applied {
            self.kick.notify_one();
        }
        Ok(outcome)
    }
}
