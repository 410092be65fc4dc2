//! The `dlq` command line, declared with clap's derive API ([`Cli`]), and its three commands,
//! one file each: `list`, `show` and `redrive`, each with what it does once its arguments are
//! parsed; [`run`] dispatches to them.
//!
//! Help, usage errors and their exit codes are clap's: `dlq --help` (and `dlq <command>
//! --help`) print the help and exit 0; arguments that make no sense exit 2 with clap's error
//! and usage line. What only the broker's namespace or the settings can refuse (a topic not of
//! the namespace, invalid `KAFKA_*` settings) is reported the same way, exit code 2; a failure
//! (the broker unreachable, nothing matching an id) prints `error: …` and exits 1. `error`
//! holds [`CliError`] and that mapping.

mod error;
mod list;
mod redrive;
mod show;

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use clap::builder::NonEmptyStringValueParser;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use saga_messaging::config::KafkaConfig;

use crate::Selection;

pub use error::CliError;

/// What `dlq --help` prints after the commands and options.
const AFTER_HELP: &str = "\
Environment: the KAFKA_* settings, as the operator: KAFKA_BROKERS (127.0.0.1:9092),
KAFKA_TOPIC_PREFIX (the namespace, empty), KAFKA_SASL_*, KAFKA_SSL_CA_LOCATION.

Exit codes: 0 done, 1 failed (the broker unreachable, nothing matching an id), 2 bad usage
(the arguments, a topic not of the namespace, invalid KAFKA_* settings).";

/// Inspect and redrive the dead-letter topics (<topic>.dlq) of a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "dlq", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Machine-readable output: key, payload and header values are strings when UTF-8, else
    /// {"base64": "..."}.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A command and its own arguments.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Every letter, oldest first per partition, then a count per topic.
    List {
        /// Only this topic's letters: an event topic, with or without the prefix
        /// (order.created), or a DLQ topic (order.created.dlq).
        #[arg(long, value_name = "T", value_parser = NonEmptyStringValueParser::new())]
        topic: Option<String>,
    },
    /// Every field of a letter, its headers and its payload.
    Show {
        /// The letter's id, <dlq topic>:<partition>:<offset>, or its event id (every letter
        /// with that event id is shown).
        #[arg(value_name = "ID|EVENT-ID", value_parser = NonEmptyStringValueParser::new())]
        target: String,
    },
    /// Send letters back to their original topic.
    ///
    /// Each goes with its original key and headers (without dlq.*, with dlq.redriven_from =
    /// the letter's id). Consumers are idempotent by event id, so a redrive is safe to repeat.
    /// Cut-down copies (dlq.payload_truncated) are skipped. The letters stay in the DLQ topic.
    Redrive {
        /// Which letters: exactly one of these.
        #[command(flatten)]
        which: Which,
        /// Say what would be sent, send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// The letters `redrive` sends: exactly one of the four options.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// Every letter of every DLQ topic of the namespace.
    #[arg(long)]
    all: bool,
    /// Every letter of one DLQ topic, named by its event topic (with or without the prefix)
    /// or by the DLQ topic itself.
    #[arg(long, value_name = "T", value_parser = NonEmptyStringValueParser::new())]
    topic: Option<String>,
    /// Every letter whose envelope has this event id.
    #[arg(long, value_name = "E", value_parser = NonEmptyStringValueParser::new())]
    event_id: Option<String>,
    /// The one letter with this id, <dlq topic>:<partition>:<offset>.
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    id: Option<String>,
}

impl Which {
    /// The selection the one option given makes.
    pub fn selection(self) -> Selection {
        match self {
            Which { topic: Some(t), .. } => Selection::Topic(t),
            Which {
                event_id: Some(e), ..
            } => Selection::EventId(e),
            Which { id: Some(i), .. } => Selection::Id(i),
            // The group requires one option: with none of the others, it is --all.
            Which { .. } => Selection::All,
        }
    }
}

/// Runs `cli`'s command against the broker of `config`, writing its output to `out`.
pub async fn run(cli: Cli, config: &KafkaConfig, out: &mut impl Write) -> Result<(), CliError> {
    let now = Utc::now();
    let json = cli.json;
    let output = match cli.command {
        Command::List { topic } => list::run(config, topic, json, now).await?,
        Command::Show { target } => show::run(config, target, json, now).await?,
        Command::Redrive { which, dry_run } => {
            redrive::run(config, which.selection(), dry_run, json).await?
        }
    };
    // A closed pipe (`dlq list | head`) is not the tool's failure.
    let _ = out.write_all(output.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

/// The whole tool: parse the command line (clap exits on `--help` and on bad usage), read the
/// settings, run, and map the outcome to an exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match KafkaConfig::from_env("operator") {
        Ok(config) => run(cli, &config, &mut std::io::stdout().lock()).await,
        Err(e) => Err(CliError::Settings(e)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.exit_code() == 2 => Cli::command()
            .error(ErrorKind::ValueValidation, e.chain())
            .exit(),
        Err(e) => {
            eprintln!("error: {}", e.chain());
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DlqToolError;

    fn parse(args: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("dlq").chain(args.split_whitespace()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_and_options_parse() {
        let cli = |json, command| Cli { json, command };
        assert_eq!(
            parse("list").unwrap(),
            cli(false, Command::List { topic: None })
        );
        assert_eq!(
            parse("list --topic=order.paid --json").unwrap(),
            cli(
                true,
                Command::List {
                    topic: Some("order.paid".into())
                }
            )
        );
        assert_eq!(
            parse("--json show a.dlq:0:1").unwrap(),
            cli(
                true,
                Command::Show {
                    target: "a.dlq:0:1".into()
                }
            )
        );
        let redrive = |args| match parse(args).unwrap().command {
            Command::Redrive { which, dry_run } => (which.selection(), dry_run),
            other => panic!("{args}: {other:?}"),
        };
        assert_eq!(
            redrive("redrive --event-id e1 --dry-run"),
            (Selection::EventId("e1".into()), true)
        );
        assert_eq!(
            redrive("redrive --topic order.paid --json"),
            (Selection::Topic("order.paid".into()), false)
        );
        assert_eq!(redrive("redrive --all"), (Selection::All, false));
        assert_eq!(
            redrive("redrive --id=a.dlq:0:1"),
            (Selection::Id("a.dlq:0:1".into()), false)
        );
    }

    #[test]
    fn help_is_clap_s_and_exits_0() {
        for args in ["--help", "redrive --all -h", "help list"] {
            let e = parse(args).expect_err(args);
            assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{args}");
            assert_eq!(e.exit_code(), 0, "{args}");
        }
        let help = Cli::command().render_long_help().to_string();
        for part in [
            "Usage: dlq",
            "list",
            "show",
            "redrive",
            "--json",
            "Exit codes",
        ] {
            assert!(help.contains(part), "{part}: {help}");
        }
    }

    #[test]
    fn bad_usage_is_refused_with_exit_code_2() {
        for bad in [
            "",
            "lst",
            "list extra",
            "list --dry-run",
            "list --topic",
            "list --topic=",
            "show",
            "show a b",
            "show x --all",
            "redrive",
            "redrive --all --id x",
            "redrive --topic t --event-id e",
            "redrive x",
            "redrive --all --verbose",
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn a_topic_not_of_the_namespace_is_bad_usage_found_before_any_broker_is_asked() {
        // No broker listens on port 1: only a check made before asking one can answer.
        let config = KafkaConfig {
            brokers: "127.0.0.1:1".into(),
            topic_prefix: "t1.".into(),
            ..KafkaConfig::default()
        };
        for command in [
            "list --topic t2.order.paid",
            "redrive --topic order.exploded",
        ] {
            let e = run(parse(command).unwrap(), &config, &mut Vec::new())
                .await
                .expect_err(command);
            assert!(
                matches!(e, CliError::Tool(DlqToolError::UnknownTopic { .. })),
                "{command}: {e}"
            );
            assert_eq!(e.exit_code(), 2);
        }
    }
}
