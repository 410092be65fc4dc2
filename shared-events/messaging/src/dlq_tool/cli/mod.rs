//! The `dlq` command line: argument parsing (by hand; the tool has few options) and the three
//! commands, with the exit codes scripts rely on: 0 done, 1 failed (the broker unreachable,
//! nothing matching an id), 2 bad usage (arguments, a topic not of the namespace, or invalid
//! `KAFKA_*` settings).
//!
//! - `args`: the options every command shares, read once, then handed to the command.
//! - `list`, `show`, `redrive`: one file per command, each with the arguments it takes and
//!   what it does; [`run`] dispatches to them.
//! - `error`: [`CliError`] and its exit codes; `usage`: the help text [`USAGE`].

mod args;
mod error;
mod list;
mod redrive;
mod show;
mod usage;

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;

use super::Selection;
use crate::config::KafkaConfig;

pub use args::parse;
pub use error::CliError;
pub use usage::USAGE;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `dlq list`: every letter, or those of one topic.
    List {
        /// `--topic`: only this topic's letters.
        topic: Option<String>,
        /// `--json`.
        json: bool,
    },
    /// `dlq show`: the letters with this id or event id.
    Show {
        /// A letter id or an event id.
        target: String,
        /// `--json`.
        json: bool,
    },
    /// `dlq redrive`.
    Redrive {
        /// Which letters.
        selection: Selection,
        /// `--dry-run`: report, send nothing.
        dry_run: bool,
        /// `--json`.
        json: bool,
    },
    /// `dlq --help`.
    Help,
}

/// Runs `command` against the broker of `config`, writing its output to `out`.
pub async fn run(
    command: Command,
    config: &KafkaConfig,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let now = Utc::now();
    let output = match command {
        Command::Help => USAGE.to_owned(),
        Command::List { topic, json } => list::run(config, topic, json, now).await?,
        Command::Show { target, json } => show::run(config, target, json, now).await?,
        Command::Redrive {
            selection,
            dry_run,
            json,
        } => redrive::run(config, selection, dry_run, json).await?,
    };
    // A closed pipe (`dlq list | head`) is not the tool's failure.
    let _ = out.write_all(output.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

/// The whole tool: parse `args`, read the settings, run, and map the outcome to an exit code
/// (errors go to stderr, after the usage text for a usage error).
pub async fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let result = async {
        let command = parse(args)?;
        let config =
            KafkaConfig::from_env("operator").map_err(|e| CliError::Usage(format!("{e:#}")))?;
        run(command, &config, &mut std::io::stdout().lock()).await
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = format!("dlq: {e}");
            // The causes not already in the message (most variants print their source).
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!(": {text}"));
                }
                source = cause.source();
            }
            if let CliError::Usage(_) = e {
                message.push_str("\n\n");
                message.push_str(USAGE);
            }
            eprintln!("{}", message.trim_end());
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlq_tool::DlqToolError;

    fn p(args: &str) -> Result<Command, CliError> {
        parse(args.split_whitespace().map(str::to_owned))
    }

    #[tokio::test]
    async fn a_topic_not_of_the_namespace_is_bad_usage_found_before_any_broker_is_asked() {
        let config = KafkaConfig {
            brokers: "127.0.0.1:1".into(),
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        for command in [
            "list --topic t2.order.paid",
            "redrive --topic order.exploded",
        ] {
            let started = std::time::Instant::now();
            let e = run(p(command).unwrap(), &config, &mut Vec::new())
                .await
                .expect_err(command);
            assert!(
                matches!(e, CliError::Tool(DlqToolError::UnknownTopic { .. })),
                "{command}: {e}"
            );
            assert_eq!(e.exit_code(), 2);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }
}
