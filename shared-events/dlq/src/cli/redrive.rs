//! `dlq redrive (--all | --topic T | --event-id E | --id ID) [--dry-run] [--json]`: exactly
//! one selection, then the letters sent back (or, with `--dry-run`, the plan) and a summary.
//! An id or event id that matches nothing is a failure; an empty topic is not.

use saga_messaging::config::KafkaConfig;

use super::error::{not_found, CliError};
use crate::{plan_redrive, redrive, render, Selection};

/// Redrives (or plans to) the selected letters and renders the report.
pub(super) async fn run(
    config: &KafkaConfig,
    selection: Selection,
    dry_run: bool,
    json: bool,
) -> Result<String, CliError> {
    let wanted = match &selection {
        Selection::Id(id) => Some(("id", id.clone())),
        Selection::EventId(id) => Some(("event id", id.clone())),
        Selection::All | Selection::Topic(_) => None,
    };
    let report = if dry_run {
        plan_redrive(config, selection).await?
    } else {
        redrive(config, selection).await?
    };
    if let Some((what, target)) = wanted {
        if report.sent.is_empty() && report.skipped.is_empty() {
            return Err(not_found(what, target, config));
        }
    }
    Ok(if json {
        render::json(&report)
    } else {
        render::report(&report)
    })
}
