//! How the raw bytes of a letter (key, payload, header values) are shown.
//!
//! In JSON a byte string that is valid UTF-8 is a JSON string, and one that is not is an
//! object `{"base64": "<standard, padded base64>"}`, so a script can always tell which it got
//! and recover the exact bytes. On a terminal, control characters and invalid UTF-8 are escaped
//! (`\u{1b}`, `\xff`), so a hostile payload cannot drive the terminal.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::Serializer;

/// Serializes optional bytes: `null`, a string when UTF-8, else `{"base64": ...}`.
pub(super) fn serialize_opt<S: Serializer>(
    bytes: &Option<Vec<u8>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match bytes {
        None => serializer.serialize_none(),
        Some(b) => serialize_bytes(b, serializer),
    }
}

/// Serializes headers as `[{"key": ..., "value": ...}, ...]`, values as [`serialize_opt`].
pub(super) fn serialize_headers<S: Serializer>(
    headers: &[(String, Option<Vec<u8>>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    struct Value<'a>(&'a Option<Vec<u8>>);
    impl serde::Serialize for Value<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_opt(self.0, s)
        }
    }
    struct Entry<'a>(&'a str, &'a Option<Vec<u8>>);
    impl serde::Serialize for Entry<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("key", self.0)?;
            map.serialize_entry("value", &Value(self.1))?;
            map.end()
        }
    }
    let mut seq = serializer.serialize_seq(Some(headers.len()))?;
    for (key, value) in headers {
        seq.serialize_element(&Entry(key, value))?;
    }
    seq.end()
}

fn serialize_bytes<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serializer.serialize_str(text),
        Err(_) => {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("base64", &base64(bytes))?;
            map.end()
        }
    }
}

/// Standard base64 (RFC 4648 §4) with padding.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | ((b as u32) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Bytes as safe terminal text on one line: UTF-8 with control characters escaped, or the
/// bytes escaped when they are not UTF-8.
pub(super) fn one_line(bytes: &[u8]) -> String {
    printable(bytes, false)
}

/// Like [`one_line`], but newlines and tabs are kept (for a payload shown in full).
pub(super) fn multi_line(bytes: &[u8]) -> String {
    printable(bytes, true)
}

fn printable(bytes: &[u8], keep_lines: bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text
            .chars()
            .map(|c| {
                if c.is_control() && !(keep_lines && (c == '\n' || c == '\t')) {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
        Err(_) => bytes.escape_ascii().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn json_bytes_are_text_when_utf8_and_base64_otherwise() {
        #[derive(serde::Serialize)]
        struct T {
            #[serde(serialize_with = "serialize_opt")]
            a: Option<Vec<u8>>,
            #[serde(serialize_with = "serialize_opt")]
            b: Option<Vec<u8>>,
            #[serde(serialize_with = "serialize_opt")]
            c: Option<Vec<u8>>,
            #[serde(serialize_with = "serialize_headers")]
            h: Vec<(String, Option<Vec<u8>>)>,
        }
        let t = T {
            a: Some("héllo".into()),
            b: Some(vec![0xff, 0x00]),
            c: None,
            h: vec![("k".into(), Some(b"v".to_vec())), ("n".into(), None)],
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({
                "a": "héllo",
                "b": {"base64": "/wA="},
                "c": null,
                "h": [{"key": "k", "value": "v"}, {"key": "n", "value": null}],
            })
        );
    }

    #[test]
    fn terminal_text_escapes_control_characters_and_invalid_utf8() {
        assert_eq!(one_line(b"a\x1b[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(multi_line(b"a\nb\tc\x07"), "a\nb\tc\\u{7}");
        assert_eq!(one_line(&[b'x', 0xff]), "x\\xff");
        assert_eq!(one_line("héllo".as_bytes()), "héllo");
    }
}
