//! `dlq redrive (--all | --topic T | --event-id E | --id ID) [--dry-run] [--json]`: exactly
//! one selection, then the letters sent back (or, with `--dry-run`, the plan) and a summary.
//! An id or event id that matches nothing is a failure; an empty topic is not.

use super::args::Options;
use super::error::{not_found, usage, CliError};
use super::Command;
use crate::config::KafkaConfig;
use crate::dlq_tool::{plan_redrive, redrive, render, Selection};

/// `redrive`'s arguments: exactly one selection (`--topic` is one), `--dry-run`, `--json`.
pub(super) fn parse(mut options: Options, positional: &[String]) -> Result<Command, CliError> {
    if !positional.is_empty() {
        return Err(usage(&format!(
            "unexpected argument {} (give --id, --event-id, --topic or --all)",
            positional[0]
        )));
    }
    if let Some(topic) = options.topic.take() {
        options.selections.push(Selection::Topic(topic));
    }
    match options.selections.as_slice() {
        [selection] => Ok(Command::Redrive {
            selection: selection.clone(),
            dry_run: options.dry_run,
            json: options.json,
        }),
        [] => Err(usage(
            "redrive needs one of --all, --topic, --event-id or --id",
        )),
        _ => Err(usage(
            "redrive takes only one of --all, --topic, --event-id or --id",
        )),
    }
}

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
