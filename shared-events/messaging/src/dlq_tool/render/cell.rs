//! What the text outputs share: how an absent value looks, an optional field escaped for the
//! terminal, and an age in its largest unit.

use chrono::{DateTime, Utc};

use crate::dlq_tool::bytes::one_line;

/// What an absent value is shown as.
pub(super) const NONE: &str = "-";

/// An optional text field, escaped for the terminal.
pub(super) fn text(value: Option<&str>) -> String {
    value.map_or_else(|| NONE.into(), |v| one_line(v.as_bytes()))
}

/// How long ago `then` was, in its largest unit: `42s`, `5m`, `3h`, `2d`.
pub(super) fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let s = (now - then).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
