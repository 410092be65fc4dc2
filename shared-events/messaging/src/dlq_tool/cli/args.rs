//! Argument parsing, by hand (the tool has few options): the options are read the same way
//! for every command (`--name value` or `--name=value`), then the command's own file checks
//! which of them it takes and builds its [`Command`].

use super::error::{usage, CliError};
use super::{list, redrive, show, Command};
use crate::dlq_tool::Selection;

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
        "list" => list::parse(options, &positional),
        "show" => show::parse(options, &positional),
        "redrive" => redrive::parse(options, &positional),
        other => Err(usage(&format!("unknown command {other}"))),
    }
}

/// The options seen, before they are checked against the command.
#[derive(Default)]
pub(super) struct Options {
    /// `--json`: every command can print JSON for scripts instead of text.
    pub(super) json: bool,
    /// `--dry-run`: kept so a command that cannot honour it (all but `redrive`) refuses it.
    pub(super) dry_run: bool,
    /// `--topic`: a filter for `list`, a selection for `redrive`, so kept apart from
    /// `selections` until the command is known.
    pub(super) topic: Option<String>,
    /// `--all`, `--event-id` and `--id`, every one given, so giving more than one is refused.
    pub(super) selections: Vec<Selection>,
}

impl Options {
    /// Refuses options and positional arguments `command` does not take.
    pub(super) fn only(
        &self,
        allowed: &[&str],
        command: &str,
        positional: &[String],
    ) -> Result<(), CliError> {
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
}
