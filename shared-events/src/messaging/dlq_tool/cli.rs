//! The `dlq` command line: argument parsing (by hand; the tool has few options) and the three
//! commands, with the exit codes scripts rely on: 0 done, 1 failed (the broker unreachable,
//! nothing matching an id), 2 bad usage (arguments, a topic not of the namespace, or invalid
//! `KAFKA_*` settings).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use chrono::Utc;

use super::{read_all, read_topic, render, DlqToolError, Selection};
use crate::messaging::config::KafkaConfig;

/// The help text, also printed after a usage error.
pub const USAGE: &str = "\
dlq: inspect and redrive the dead-letter topics (<topic>.dlq) of a namespace

usage:
  dlq list [--topic T] [--json]
  dlq show <id|event-id> [--json]
  dlq redrive (--all | --topic T | --event-id E | --id ID) [--dry-run] [--json]
  dlq --help

  list     every letter, oldest first per partition, then a count per topic
  show     every field of a letter (by its id, <dlq topic>:<partition>:<offset>, or by
           its event id), its headers and its payload
  redrive  send letters back to their original topic with their original key and
           headers (without dlq.*, with dlq.redriven_from = the letter's id); consumers
           are idempotent by event id, so a redrive is safe to repeat. Cut-down copies
           (dlq.payload_truncated) are skipped. The letters stay in the DLQ topic.

  --topic T   an event topic, with or without the prefix (order.created), or a DLQ
              topic (order.created.dlq)
  --dry-run   say what would be sent, send nothing
  --json      machine-readable output: key, payload and header values are strings
              when UTF-8, else {\"base64\": \"...\"}

environment: KAFKA_BROKERS (127.0.0.1:9092), KAFKA_TOPIC_PREFIX (the namespace, empty)
exit codes: 0 done, 1 failed, 2 bad usage
";

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

/// Why the tool did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments or settings make no sense; exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Nothing matched an id or event id; exit code 1.
    #[error("no dead letter with {what} `{target}` in namespace `{prefix}`")]
    NotFound {
        /// "id or event id", "id" or "event id".
        what: &'static str,
        /// What was looked for.
        target: String,
        /// The namespace searched (`KAFKA_TOPIC_PREFIX`).
        prefix: String,
    },
    /// Reading or redriving failed; exit code 1.
    #[error(transparent)]
    Tool(#[from] DlqToolError),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Tool(DlqToolError::UnknownTopic { .. }) => 2,
            CliError::NotFound { .. } | CliError::Tool(_) => 1,
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, CliError> {
    let args: Vec<String> = args.into_iter().collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    let Some((command, rest)) = args.split_first() else {
        return Err(usage("a command is needed"));
    };
    let mut options = Options::default();
    let mut positional = Vec::new();
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| usage(&format!("{name} needs a value")))
        };
        match name {
            "--json" => options.json = true,
            "--dry-run" => options.dry_run = true,
            "--all" => options.selections.push(Selection::All),
            "--topic" => options.topic = Some(value(name)?),
            "--event-id" => options.selections.push(Selection::EventId(value(name)?)),
            "--id" => options.selections.push(Selection::Id(value(name)?)),
            flag if flag.starts_with('-') => return Err(usage(&format!("unknown option {flag}"))),
            _ => positional.push(arg.clone()),
        }
    }
    match command.as_str() {
        "help" => Ok(Command::Help),
        "list" => {
            options.only(&["--topic", "--json"], command, &positional)?;
            Ok(Command::List {
                topic: options.topic,
                json: options.json,
            })
        }
        "show" => {
            options.only(&["--json"], command, &[])?;
            match positional.as_slice() {
                [target] => Ok(Command::Show {
                    target: target.clone(),
                    json: options.json,
                }),
                [] => Err(usage("show needs an id or an event id")),
                _ => Err(usage("show takes one id or event id")),
            }
        }
        "redrive" => {
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
        other => Err(usage(&format!("unknown command {other}"))),
    }
}

/// The options seen, before they are checked against the command.
#[derive(Default)]
struct Options {
    json: bool,
    dry_run: bool,
    topic: Option<String>,
    selections: Vec<Selection>,
}

impl Options {
    /// Refuses options and positional arguments `command` does not take.
    fn only(&self, allowed: &[&str], command: &str, positional: &[String]) -> Result<(), CliError> {
        let given = [
            ("--dry-run", self.dry_run),
            ("--topic", self.topic.is_some()),
            ("--all/--event-id/--id", !self.selections.is_empty()),
        ];
        if let Some((flag, _)) = given
            .iter()
            .find(|(flag, on)| *on && !allowed.contains(flag))
        {
            return Err(usage(&format!("{command} does not take {flag}")));
        }
        if let Some(arg) = positional.first() {
            return Err(usage(&format!("{command} takes no argument {arg}")));
        }
        Ok(())
    }
}

fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
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
        Command::List { topic, json } => {
            let letters = match topic {
                Some(topic) => read_topic(config, &topic).await?,
                None => read_all(config).await?,
            };
            if json {
                render::json(&letters)
            } else {
                render::table(&letters, now, width())
            }
        }
        Command::Show { target, json } => {
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
            if json {
                render::json(&found)
            } else {
                let shown: Vec<String> = found.iter().map(|l| render::show(l, now)).collect();
                shown.join("\n")
            }
        }
        Command::Redrive {
            selection,
            dry_run,
            json,
        } => {
            let wanted = match &selection {
                Selection::Id(id) => Some(("id", id.clone())),
                Selection::EventId(id) => Some(("event id", id.clone())),
                Selection::All | Selection::Topic(_) => None,
            };
            let report = if dry_run {
                super::plan_redrive(config, selection).await?
            } else {
                super::redrive(config, selection).await?
            };
            if let Some((what, target)) = wanted {
                if report.sent.is_empty() && report.skipped.is_empty() {
                    return Err(not_found(what, target, config));
                }
            }
            if json {
                render::json(&report)
            } else {
                render::report(&report)
            }
        }
    };
    // A closed pipe (`dlq list | head`) is not the tool's failure.
    let _ = out.write_all(output.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

fn not_found(what: &'static str, target: String, config: &KafkaConfig) -> CliError {
    CliError::NotFound {
        what,
        target,
        prefix: config.topic_prefix.clone(),
    }
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

/// The whole tool: parse `args`, read the settings, run, and map the outcome to an exit code
/// (errors go to stderr, after the usage text for a usage error).
pub async fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let result = async {
        let command = parse(args)?;
        let config = KafkaConfig::from_env().map_err(|e| CliError::Usage(format!("{e:#}")))?;
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

    fn p(args: &str) -> Result<Command, CliError> {
        parse(args.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn commands_and_options_parse() {
        assert_eq!(
            p("list").unwrap(),
            Command::List {
                topic: None,
                json: false
            }
        );
        assert_eq!(
            p("list --topic=order.paid --json").unwrap(),
            Command::List {
                topic: Some("order.paid".into()),
                json: true
            }
        );
        assert_eq!(
            p("show --json a.dlq:0:1").unwrap(),
            Command::Show {
                target: "a.dlq:0:1".into(),
                json: true
            }
        );
        assert_eq!(
            p("redrive --event-id e1 --dry-run").unwrap(),
            Command::Redrive {
                selection: Selection::EventId("e1".into()),
                dry_run: true,
                json: false
            }
        );
        assert_eq!(
            p("redrive --topic order.paid --json").unwrap(),
            Command::Redrive {
                selection: Selection::Topic("order.paid".into()),
                dry_run: false,
                json: true
            }
        );
        assert!(matches!(
            p("redrive --all").unwrap(),
            Command::Redrive {
                selection: Selection::All,
                ..
            }
        ));
        assert!(matches!(
            p("redrive --id=a.dlq:0:1").unwrap(),
            Command::Redrive { selection: Selection::Id(id), .. } if id == "a.dlq:0:1"
        ));
        assert_eq!(p("--help").unwrap(), Command::Help);
        assert_eq!(p("redrive --all -h").unwrap(), Command::Help);
    }

    #[test]
    fn bad_usage_is_refused_with_exit_code_2() {
        for bad in [
            "",
            "lst",
            "list extra",
            "list --dry-run",
            "list --topic",
            "show",
            "show a b",
            "show x --all",
            "redrive",
            "redrive --all --id x",
            "redrive --topic t --event-id e",
            "redrive x",
            "redrive --all --verbose",
        ] {
            let e = p(bad).expect_err(bad);
            assert!(matches!(e, CliError::Usage(_)), "{bad}: {e}");
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
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
