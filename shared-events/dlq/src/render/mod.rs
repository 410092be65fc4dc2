//! The tool's output: an aligned table and a per-topic count for `list` (`table`), every field
//! of a letter for `show` (`show`), a summary for `redrive` (`report`), and pretty JSON of the
//! same records for `--json` ([`json`]). Rendering takes `now` and the terminal width as
//! arguments, so it is pure.
//!
//! What the text outputs share is here: how an absent value looks ([`NONE`]), an optional field
//! escaped for the terminal ([`text`]), and an age in its largest unit ([`age`]).

mod report;
mod show;
mod table;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::bytes::one_line;

pub use report::report;
pub use show::show;
pub use table::{counts, table};

/// What an absent value is shown as.
const NONE: &str = "-";

/// `--json`: the records the text outputs show, as pretty JSON for scripts (bytes as strings
/// when UTF-8, else base64, by the records' own `Serialize`), with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("the tool's records serialize");
    out.push('\n');
    out
}

/// An optional text field, escaped for the terminal.
fn text(value: Option<&str>) -> String {
    value.map_or_else(|| NONE.into(), |v| one_line(v.as_bytes()))
}

/// How long ago `then` was, in its largest unit: `42s`, `5m`, `3h`, `2d`.
fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let s = (now - then).num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
