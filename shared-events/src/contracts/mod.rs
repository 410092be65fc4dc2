//! The contracts: what the five services agree on, and nothing that runs.
//!
//! - [`envelope`]: the envelope every message carries (SPEC §3) and its decoding;
//! - [`events`]: every event of the saga, its payload, its topic and its key (the golden
//!   files under `shared-events/tests/golden/` pin each payload's JSON);
//! - [`services`]: who publishes and who consumes each event;
//! - [`money`], [`name`], [`sku`]: the values events and APIs share, parsed, not validated;
//! - [`trace`]: the W3C trace context a message carries in its headers.

pub mod envelope;
pub mod events;
pub mod money;
pub mod name;
pub mod services;
pub mod sku;
pub mod trace;
