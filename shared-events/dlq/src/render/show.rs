//! `show`: every field of one letter, its headers, and its payload (pretty-printed when it is
//! JSON), for an operator deciding whether to redrive it.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{age, text, NONE};
use crate::bytes::{multi_line, one_line};
use crate::letter::DeadLetter;

/// `show`: every field of `letter`, its headers, and its payload (pretty-printed if JSON).
pub fn show(letter: &DeadLetter, now: DateTime<Utc>) -> String {
    let l = letter;
    let mut out = String::new();
    let mut field = |name: &str, value: String| {
        let value = value.replace('\n', "\n                 ");
        let _ = writeln!(out, "{name:<15}  {value}");
    };
    field("id", one_line(l.id.as_bytes()));
    field(
        "dlq topic",
        format!(
            "{} [{}] @ {}",
            one_line(l.dlq_topic.as_bytes()),
            l.partition,
            l.offset
        ),
    );
    field(
        "dead-lettered",
        l.timestamp.map_or_else(
            || NONE.into(),
            |t| {
                format!(
                    "{} ({} ago)",
                    t.to_rfc3339_opts(SecondsFormat::Millis, true),
                    age(now, t)
                )
            },
        ),
    );
    field(
        "original",
        format!(
            "{} [{}] @ {}",
            text(l.original_topic.as_deref()),
            l.original_partition
                .map_or_else(|| NONE.into(), |p| p.to_string()),
            l.original_offset
                .map_or_else(|| NONE.into(), |o| o.to_string()),
        ),
    );
    field("reason", text(l.reason.as_deref()));
    field(
        "attempts",
        l.attempts.map_or_else(|| NONE.into(), |a| a.to_string()),
    );
    field("consumer group", text(l.consumer_group.as_deref()));
    field(
        "error",
        l.error
            .as_deref()
            .map_or_else(|| NONE.into(), |e| multi_line(e.as_bytes())),
    );
    field("event type", text(l.event_type.as_deref()));
    field("event id", text(l.event_id.as_deref()));
    field(
        "key",
        l.key.as_deref().map_or_else(|| NONE.into(), one_line),
    );
    field(
        "cut down",
        match l.truncated_from {
            Some(size) => {
                format!("yes: the payload below is the start of {size} bytes; redrive refuses it")
            }
            None => "no".into(),
        },
    );
    let _ = writeln!(out, "headers ({})", l.headers.len());
    for (key, value) in &l.headers {
        let value = value.as_deref().map_or_else(|| "(null)".into(), one_line);
        let _ = writeln!(out, "  {}: {value}", one_line(key.as_bytes()));
    }
    match &l.payload {
        None => out.push_str("payload: none\n"),
        Some(payload) => {
            let _ = writeln!(out, "payload ({} bytes)", payload.len());
            let body = serde_json::from_slice::<serde_json::Value>(payload)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .map_or_else(
                    || multi_line(payload),
                    |pretty| multi_line(pretty.as_bytes()),
                );
            for line in body.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{letter, now};

    #[test]
    fn show_has_every_field_and_pretty_prints_a_json_payload() {
        let mut l = letter("order.paid.dlq", 3, "boom");
        l.truncated_from = Some(999_800);
        let out = show(&l, now());
        for expected in [
            "id               order.paid.dlq:0:3",
            "original         order.paid [1] @ 7",
            "reason           permanent",
            "attempts         1",
            "consumer group   billing",
            "error            boom",
            "event type       order.paid",
            "key              order-1",
            "(3h ago)",
            "the start of 999800 bytes",
            "  dlq.reason: permanent",
            "payload (31 bytes)",
            "  {\n    \"data\": {\n      \"a\": 1\n    },",
        ] {
            assert!(out.contains(expected), "{expected:?} in:\n{out}");
        }
    }
}
