//! W3C trace context (`traceparent`), carried in every message's headers.
//!
//! A saga starts a trace at the HTTP request that begins it; each event caused by another
//! continues the same trace with a fresh span id, so one trace id follows an order through
//! every service's logs.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A W3C `traceparent`: the trace a message belongs to and the span that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace: one per saga, from the request that began it.
    trace_id: u128,
    /// This hop's span, new at every hop.
    span_id: u64,
    /// The sampled flag, carried on as received.
    sampled: bool,
}

/// A `traceparent` value that is not `00-<trace>-<span>-<flags>` in hex.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed traceparent header")]
pub struct TraceParentError;

impl TraceParent {
    /// A new trace, as at the start of a saga.
    pub fn new_root() -> Self {
        TraceParent {
            trace_id: Uuid::new_v4().as_u128(),
            span_id: random_span_id(),
            sampled: true,
        }
    }

    /// The same trace, one hop further.
    pub fn child(&self) -> Self {
        TraceParent {
            span_id: random_span_id(),
            ..*self
        }
    }

    /// The trace id as 32 hex digits, as logs show it.
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

fn random_span_id() -> u64 {
    // A v4 UUID is 122 random bits; 64 of them make a span id. Zero is invalid in W3C.
    (Uuid::new_v4().as_u128() as u64).max(1)
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.sampled as u8
        )
    }
}

impl FromStr for TraceParent {
    type Err = TraceParentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        let [version, trace, span, flags] = parts[..] else {
            return Err(TraceParentError);
        };
        let hex = |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_hexdigit());
        if version != "00" || !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2) {
            return Err(TraceParentError);
        }
        let trace_id = u128::from_str_radix(trace, 16).map_err(|_| TraceParentError)?;
        let span_id = u64::from_str_radix(span, 16).map_err(|_| TraceParentError)?;
        let flags = u8::from_str_radix(flags, 16).map_err(|_| TraceParentError)?;
        if trace_id == 0 || span_id == 0 {
            return Err(TraceParentError);
        }
        Ok(TraceParent {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_children_keep_the_trace() {
        let root = TraceParent::new_root();
        let text = root.to_string();
        assert_eq!(text.len(), 55);
        assert_eq!(text.parse::<TraceParent>().unwrap(), root);
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child, root);
    }

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "00-abc-def-01",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        ] {
            assert_eq!(bad.parse::<TraceParent>(), Err(TraceParentError), "{bad}");
        }
        let ok: TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .unwrap();
        assert_eq!(ok.trace_id(), "0af7651916cd43dd8448eb211c80319c");
    }
}
