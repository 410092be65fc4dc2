//! `--json`: the records the text outputs show, as pretty JSON for scripts (bytes as strings
//! when UTF-8, else base64, by the records' own `Serialize`).

use serde::Serialize;

/// Pretty JSON of `value`, with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("the tool's records serialize");
    out.push('\n');
    out
}
