//! `dlq list [--topic T] [--json]`: every letter of the namespace, or of one topic, as a
//! table fitted to the terminal (then a count per topic), or as JSON.

use std::io::IsTerminal;

use chrono::{DateTime, Utc};

use saga_messaging::config::KafkaConfig;

use super::error::CliError;
use crate::{read_all, read_topic, render};

/// Reads the letters (of `topic` alone, if given) and renders them.
pub(super) async fn run(
    config: &KafkaConfig,
    topic: Option<String>,
    json: bool,
    now: DateTime<Utc>,
) -> Result<String, CliError> {
    let letters = match topic {
        Some(topic) => read_topic(config, &topic).await?,
        None => read_all(config).await?,
    };
    Ok(if json {
        render::json(&letters)
    } else {
        render::table(&letters, now, width())
    })
}

/// The width the `list` table is fitted to: `COLUMNS` if set, 120 on a terminal, and no
/// limit when the output goes to a pipe or a file.
fn width() -> usize {
    match std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
    {
        Some(columns) => columns,
        None if std::io::stdout().is_terminal() => 120,
        None => usize::MAX,
    }
}
