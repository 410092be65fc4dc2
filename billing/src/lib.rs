//! The billing service (skeleton; its capability is built in its own issue).

pub const SERVICE: &str = "billing";
