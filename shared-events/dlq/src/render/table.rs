//! `list`: one row per letter in aligned columns, the error cut so a row fits the terminal,
//! then the count of letters in all and per DLQ topic.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{age, text, NONE};
use crate::bytes::one_line;
use crate::letter::DeadLetter;

/// The narrowest the error column is cut to, however narrow the terminal.
const MIN_ERROR_WIDTH: usize = 24;

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

/// `text` cut to `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{letter, now};

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
}
