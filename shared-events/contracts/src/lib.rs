//! The saga's event contracts: what the five services agree on, and nothing that runs.
//!
//! A producer in another language, a new service or a test can take this crate alone: it
//! depends on serde, chrono, uuid and rust_decimal, and on no broker, store or HTTP crate
//! (no rdkafka, sqlx, mongodb, redis or actix); the feature `openapi` adds utoipa, which
//! describes documents and serves nothing. Every other crate of the workspace sits above
//! it; it depends on none of them.
//!
//! - [`envelope`]: the envelope every message carries (SPEC §3) and its decoding;
//! - [`events`]: every event of the saga, its payload, its topic and its key (the golden
//!   files under `shared-events/contracts/tests/golden/` pin each payload's JSON);
//! - [`services`]: who publishes and who consumes each event;
//! - [`money`], [`name`], [`sku`]: the values events and APIs share, parsed, not validated;
//! - [`trace`]: the W3C trace context a message carries in its headers;
//! - (feature `openapi`) `openapi`: the OpenAPI schemas of [`Money`], [`Sku`] and
//!   [`OrderLine`](events::OrderLine), for the services' documents.

#![warn(missing_docs)]

pub mod envelope;
pub mod events;
pub mod money;
pub mod name;
#[cfg(feature = "openapi")]
mod openapi;
pub mod services;
pub mod sku;
pub mod trace;

pub use envelope::{DecodeError, Envelope, SCHEMA_VERSION};
pub use events::{EventPayload, EventType};
pub use money::{Money, MoneyError};
pub use name::Name;
pub use sku::Sku;
pub use trace::TraceParent;
