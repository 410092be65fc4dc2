//! The customer service (skeleton; its capability is built in its own issue).

pub const SERVICE: &str = "customer";
