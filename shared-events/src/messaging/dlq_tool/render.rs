//! The tool's output: an aligned table and a per-topic count for `list`, every field of a
//! letter for `show`, a summary for `redrive`, and pretty JSON of the same records for
//! `--json`. Rendering takes `now` and the terminal width as arguments, so it is pure.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::bytes::{multi_line, one_line};
use super::letter::DeadLetter;
use super::redrive::RedriveReport;

/// What an absent value is shown as.
const NONE: &str = "-";
/// The narrowest the error column is cut to, however narrow the terminal.
const MIN_ERROR_WIDTH: usize = 24;

/// Pretty JSON of `value`, with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("the tool's records serialize");
    out.push('\n');
    out
}

/// `list`: one row per letter, the error cut so a row fits `width` columns, then the count.
pub fn table(letters: &[DeadLetter], now: DateTime<Utc>, width: usize) -> String {
    let mut out = String::new();
    if letters.is_empty() {
        out.push_str(&counts(letters));
        return out;
    }
    let header = [
        "ID",
        "ORIGINAL TOPIC",
        "REASON",
        "ATTEMPTS",
        "EVENT TYPE",
        "EVENT ID",
        "AGE",
    ];
    let rows: Vec<[String; 8]> = letters
        .iter()
        .map(|l| {
            [
                one_line(l.id.as_bytes()),
                text(l.original_topic.as_deref()),
                text(l.reason.as_deref()),
                l.attempts.map_or_else(|| NONE.into(), |a| a.to_string()),
                text(l.event_type.as_deref()),
                text(l.event_id.as_deref()),
                l.timestamp.map_or_else(|| NONE.into(), |t| age(now, t)),
                match l.truncated_from {
                    Some(size) => {
                        format!("[cut down from {size} bytes] {}", text(l.error.as_deref()))
                    }
                    None => text(l.error.as_deref()),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let used: usize = widths.iter().map(|w| w + 2).sum();
    let error_width = width.saturating_sub(used).max(MIN_ERROR_WIDTH);
    let mut line = |cells: [&str; 8]| {
        let mut l = String::new();
        for (cell, w) in cells.iter().zip(widths.iter()) {
            let _ = write!(l, "{cell:<w$}  ");
        }
        l.push_str(&cut(cells[7], error_width));
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line([
        header[0], header[1], header[2], header[3], header[4], header[5], header[6], "ERROR",
    ]);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    out.push_str(&counts(letters));
    out
}

/// The count line: how many letters in all and in each DLQ topic.
pub fn counts(letters: &[DeadLetter]) -> String {
    let mut per_topic: BTreeMap<&str, usize> = BTreeMap::new();
    for l in letters {
        *per_topic.entry(&l.dlq_topic).or_default() += 1;
    }
    let plural = if letters.len() == 1 { "" } else { "s" };
    if per_topic.is_empty() {
        return "0 dead letters\n".into();
    }
    let topics: Vec<String> = per_topic
        .iter()
        .map(|(t, n)| format!("{}: {n}", one_line(t.as_bytes())))
        .collect();
    format!(
        "{} dead letter{plural} ({})\n",
        letters.len(),
        topics.join(", ")
    )
}

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

/// `redrive`: what was (or, in a dry run, would be) sent where, and what was skipped and why.
pub fn report(report: &RedriveReport) -> String {
    let mut out = String::new();
    let (verb, skip) = if report.dry_run {
        ("would redrive", "would skip")
    } else {
        ("redrove", "skipped")
    };
    for r in &report.sent {
        let event = r.event_id.as_deref().unwrap_or(NONE);
        let at = match (r.partition, r.offset) {
            (Some(p), Some(o)) => format!(" [{p}] @ {o}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{verb} {} (event {event}) -> {}{at}",
            one_line(r.id.as_bytes()),
            one_line(r.topic.as_bytes())
        );
    }
    for s in &report.skipped {
        let _ = writeln!(
            out,
            "{skip} {} (event {}): {}",
            one_line(s.id.as_bytes()),
            s.event_id.as_deref().unwrap_or(NONE),
            s.reason
        );
    }
    let _ = writeln!(
        out,
        "{}{verb} {}, {skip} {}",
        if report.dry_run { "dry run: " } else { "" },
        report.sent.len(),
        report.skipped.len()
    );
    out
}

/// An optional text field, escaped for the terminal.
fn text(value: Option<&str>) -> String {
    value.map_or_else(|| NONE.into(), |v| one_line(v.as_bytes()))
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messaging::dlq_tool::{Redriven, SkipReason, Skipped};

    fn letter(topic: &str, offset: i64, error: &str) -> DeadLetter {
        DeadLetter {
            id: format!("{topic}:0:{offset}"),
            dlq_topic: topic.into(),
            partition: 0,
            offset,
            timestamp: Some(DateTime::from_timestamp(1_000_000, 0).unwrap()),
            original_topic: topic.strip_suffix(".dlq").map(str::to_owned),
            original_partition: Some(1),
            original_offset: Some(7),
            reason: Some("permanent".into()),
            error: Some(error.into()),
            attempts: Some(1),
            consumer_group: Some("billing".into()),
            truncated_from: None,
            event_id: Some("0197a2b3-0000-7000-8000-000000000001".into()),
            event_type: Some("order.paid".into()),
            key: Some(b"order-1".to_vec()),
            // Keys in sorted order: the same whether or not serde_json preserves order.
            payload: Some(br#"{"data":{"a":1},"event_id":"x"}"#.to_vec()),
            headers: vec![("dlq.reason".into(), Some(b"permanent".to_vec()))],
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_000_000 + 3 * 3600 + 5, 0).unwrap()
    }

    #[test]
    fn the_table_is_aligned_cuts_the_error_to_fit_and_counts_per_topic() {
        let letters = [
            letter("order.paid.dlq", 0, &"x".repeat(300)),
            letter("order.paid.dlq", 1, "short"),
            letter("stock.updated.dlq", 12, "bad\nline"),
        ];
        let out = table(&letters, now(), 150);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[0].starts_with("ID  ") && lines[0].ends_with("ERROR"));
        let error_at = lines[0].find("ERROR").unwrap();
        assert_eq!(lines[1].find("xxx"), Some(error_at), "{out}");
        assert_eq!(lines[1].chars().count(), 150, "cut to the width: {out}");
        assert!(lines[1].ends_with('…'));
        assert!(lines[2].ends_with("short"));
        assert!(lines[3].ends_with("bad\\nline"), "escaped, one line: {out}");
        assert!(lines[1].contains("  3h  "), "{out}");
        assert_eq!(
            lines[4],
            "3 dead letters (order.paid.dlq: 2, stock.updated.dlq: 1)"
        );
        assert_eq!(table(&[], now(), 80), "0 dead letters\n");
    }

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

    #[test]
    fn the_report_says_what_was_sent_where_and_why_others_were_not() {
        let r = RedriveReport {
            dry_run: false,
            sent: vec![Redriven {
                id: "a.dlq:0:1".into(),
                event_id: Some("e1".into()),
                topic: "a".into(),
                partition: Some(2),
                offset: Some(9),
            }],
            skipped: vec![Skipped {
                id: "a.dlq:0:2".into(),
                event_id: None,
                reason: SkipReason::Truncated { original_size: 10 },
            }],
        };
        assert_eq!(
            report(&r),
            "redrove a.dlq:0:1 (event e1) -> a [2] @ 9\n\
             skipped a.dlq:0:2 (event -): a cut-down copy (the original payload was 10 bytes)\n\
             redrove 1, skipped 1\n"
        );
        let plan = RedriveReport { dry_run: true, ..r };
        assert!(report(&plan).ends_with("dry run: would redrive 1, would skip 1\n"));
    }
}
