//! The notification domain: kinds, the words for cancellation reasons, the messages each event
//! becomes, and validated manual-notification input.

mod kind;
mod manual;
mod messages;
mod reason;

pub use kind::Kind;
pub use manual::{Body, Subject, MAX_BODY_CHARS, MAX_SUBJECT_CHARS};
pub use messages::{Message, Recipient};
pub use reason::reason_in_words;
