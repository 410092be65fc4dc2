//! `saga-bench`'s command line: the command (one open- or closed-loop run, a sweep, or the
//! smoke run) and its options, with the defaults each command has.

use std::collections::BTreeMap;

use super::run::Mode;

/// What to do.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// One run.
    Once {
        /// How the load is offered: `open --rate`, `closed --clients`, or smoke's 5/s.
        mode: Mode,
        /// Whether to measure the broker's and PostgreSQL's ceilings first (all but smoke).
        ceilings: bool,
    },
    /// Open-loop steps from `from`, `step` apart, up to `max`.
    Sweep {
        /// The first step's rate (`--from`, 25).
        from: f64,
        /// How much each step adds (`--step`, 25).
        step: f64,
        /// The highest rate tried (`--max`, 1000).
        max: f64,
    },
}

/// The command line, parsed.
#[derive(Debug)]
pub struct Args {
    /// What to do.
    pub command: Command,
    /// How long each run offers load, in seconds (`--secs`; 30, 20 per sweep step, 4 smoke).
    pub secs: f64,
    /// How many customers each run's fresh mix has (`--customers`; 50, 10 smoke).
    pub customers: usize,
    /// How many SKUs each run's fresh mix has (`--skus`; 20, 8 smoke).
    pub skus: usize,
    /// Whether to print each run's report as one JSON line too (`--json`).
    pub json: bool,
}

/// How to call it, printed after a command line that does not parse.
pub const USAGE: &str = "usage: saga-bench open --rate R | closed --clients N | sweep [--from R] [--step R] [--max R] | smoke\n       \
    [--secs S] [--customers N] [--skus N] [--json]";

/// Parses the arguments after the program's name.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("no command")?;
    let mut opts: BTreeMap<String, f64> = BTreeMap::new();
    let mut json = false;
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--json" => json = true,
            "--rate" | "--clients" | "--secs" | "--customers" | "--skus" | "--from" | "--step"
            | "--max" => {
                let text = args.next().ok_or(format!("{flag} needs a value"))?;
                let value = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .ok_or(format!("{flag} must be a positive number, not {text:?}"))?;
                opts.insert(flag.trim_start_matches('-').to_owned(), value);
            }
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let get = |k: &str| opts.get(k).copied();
    // Smoke mode is small throughout: a few customers and SKUs too.
    let small = command == "smoke";
    let (command, default_secs) = match command.as_str() {
        "open" => (
            Command::Once {
                mode: Mode::Open {
                    rate: get("rate").ok_or("open needs --rate")?,
                },
                ceilings: true,
            },
            30.0,
        ),
        "closed" => (
            Command::Once {
                mode: Mode::Closed {
                    clients: get("clients").ok_or("closed needs --clients")?.max(1.0) as usize,
                },
                ceilings: true,
            },
            30.0,
        ),
        "sweep" => (
            Command::Sweep {
                from: get("from").unwrap_or(25.0),
                step: get("step").unwrap_or(25.0),
                max: get("max").unwrap_or(1000.0),
            },
            20.0,
        ),
        "smoke" => (
            Command::Once {
                mode: Mode::Open { rate: 5.0 },
                ceilings: false,
            },
            4.0,
        ),
        other => return Err(format!("unknown command {other:?}")),
    };
    Ok(Args {
        command,
        secs: get("secs").unwrap_or(default_secs),
        customers: get("customers").map_or(if small { 10 } else { 50 }, |v| v as usize),
        skus: get("skus").map_or(if small { 8 } else { 20 }, |v| v as usize),
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Args, String> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_each_command_and_rejects_bad_input() {
        let open = args("open --rate 50 --secs 10").unwrap();
        assert_eq!(
            open.command,
            Command::Once {
                mode: Mode::Open { rate: 50.0 },
                ceilings: true
            }
        );
        assert_eq!(open.secs, 10.0);
        assert!(matches!(
            args("closed --clients 20").unwrap().command,
            Command::Once {
                mode: Mode::Closed { clients: 20 },
                ..
            }
        ));
        let smoke = args("smoke").unwrap();
        assert_eq!((smoke.secs, smoke.customers), (4.0, 10));
        assert_eq!(
            args("sweep --step 50").unwrap().command,
            Command::Sweep {
                from: 25.0,
                step: 50.0,
                max: 1000.0
            }
        );
        assert!(args("open").is_err(), "open needs a rate");
        assert!(args("open --rate -1").is_err());
        assert!(args("open --rate 5 --bogus").is_err());
        assert!(args("sideways").is_err());
    }
}
