//! `redrive`: what was (or, in a dry run, would be) sent where, what was skipped and why, and
//! the totals.

use std::fmt::Write;

use super::NONE;
use crate::bytes::one_line;
use crate::redrive::RedriveReport;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Redriven, SkipReason, Skipped};

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
