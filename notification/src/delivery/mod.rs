//! Delivering notifications to customers, after they are stored.
//!
//! A notification is stored (with its entry in the pending-deliveries set) in one atomic step;
//! the [`Dispatcher`] then hands it to the [`Notifier`] and, once that succeeded, stamps
//! `sent_at` and removes the pending entry. The record is therefore exactly-once, and delivery
//! is at-least-once: a crash between a successful send and the stamp sends it again later.

mod dispatcher;

use async_trait::async_trait;

pub use dispatcher::Dispatcher;

use crate::store::Notification;

/// Sends one notification to its customer (`email` from the customer replica, if known).
/// An error leaves it pending, to be tried again.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// Sends `notification`; an error means it was not sent.
    async fn deliver(&self, notification: &Notification, email: Option<&str>)
        -> anyhow::Result<()>;
}

/// The default notifier: writes the message to the log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn deliver(&self, n: &Notification, email: Option<&str>) -> anyhow::Result<()> {
        tracing::info!(
            notification_id = %n.id,
            customer_id = %n.customer_id,
            to = email.unwrap_or("(email not known yet)"),
            kind = %n.kind,
            order_id = ?n.order_id,
            subject = %n.subject,
            body = %n.body,
            "notification sent"
        );
        Ok(())
    }
}
