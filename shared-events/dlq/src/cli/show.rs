//! `dlq show <id|event-id> [--json]`: every field of the letters with this id or event id,
//! their headers and their payload. The target is tried as both; an id confines the read to
//! its own DLQ topic.

use chrono::{DateTime, Utc};

use saga_messaging::config::KafkaConfig;

use super::error::{not_found, CliError};
use crate::{read_all, read_topic, render, Selection};

/// Finds the letters with id or event id `target` and renders them; none is a failure.
pub(super) async fn run(
    config: &KafkaConfig,
    target: String,
    json: bool,
    now: DateTime<Utc>,
) -> Result<String, CliError> {
    let id = Selection::Id(target.clone());
    let event_id = Selection::EventId(target.clone());
    let letters = match id.dlq_topic(config)? {
        Some(topic) => read_topic(config, &topic).await?,
        None => read_all(config).await?,
    };
    let found: Vec<_> = letters
        .into_iter()
        .filter(|l| id.matches(l) || event_id.matches(l))
        .collect();
    if found.is_empty() {
        return Err(not_found("id or event id", target, config));
    }
    Ok(if json {
        render::json(&found)
    } else {
        let shown: Vec<String> = found.iter().map(|l| render::show(l, now)).collect();
        shown.join("\n")
    })
}
