//! `saga-bench`: the saga benchmark, against the system `scripts/start` runs (see
//! `saga_tests::bench`). Usually run through `scripts/bench`.
//!
//! ```text
//! saga-bench open --rate 50 --secs 30       50 orders/s offered for 30 s
//! saga-bench closed --clients 20 --secs 30  20 clients, each waiting for its saga to end
//! saga-bench sweep --from 25 --step 25      rising rates until the system stops keeping up;
//!                                           writes docs/performance.md's table and the chart
//! saga-bench smoke                          5 orders/s for 4 s: correctness only (CI)
//! ```
//! Options: `--secs S` (30; 20 per sweep step), `--customers N` (50), `--skus N` (20),
//! `--max R` (sweep: the highest rate tried, 1000), `--json` (also print one JSON line).
//! Environment: `BENCH_HOST` (127.0.0.1; the services listen on 8001–8005),
//! `ORDER_TIMEOUT_SECS` (the services' saga deadline, 30), `STACK_DIR` (`<repo>/.stack`).
//! Exits non-zero if an invariant of SPEC §5 is violated or an order could not be placed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use saga_tests::bench::ceiling::{self, Ceilings};
use saga_tests::bench::run::{self, Mode, Outcome, Plan};
use saga_tests::bench::sweep::{self, Step};
use saga_tests::client::Api;
use saga_tests::service::Service;

/// What to do.
#[derive(Debug, PartialEq)]
enum Command {
    /// One run.
    Once { mode: Mode, ceilings: bool },
    /// Open-loop steps from `from`, `step` apart, up to `max`.
    Sweep { from: f64, step: f64, max: f64 },
}

/// The command line, parsed.
#[derive(Debug)]
struct Args {
    command: Command,
    secs: f64,
    customers: usize,
    skus: usize,
    json: bool,
}

const USAGE: &str = "usage: saga-bench open --rate R | closed --clients N | sweep [--from R] [--step R] [--max R] | smoke\n       \
    [--secs S] [--customers N] [--skus N] [--json]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
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

fn api() -> Api {
    let host = std::env::var("BENCH_HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let base: BTreeMap<Service, String> = Service::ALL
        .iter()
        .zip(8001..)
        .map(|(&s, port)| (s, format!("http://{host}:{port}")))
        .collect();
    Api::new(base)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_owned()
}

fn stack_dir() -> PathBuf {
    std::env::var_os("STACK_DIR").map_or_else(|| repo().join(".stack"), PathBuf::from)
}

/// The ratios of a saga rate to the ceilings of the same run.
fn ratios(sagas_per_second: f64, c: &Ceilings) -> String {
    format!(
        "  ceilings (same run): broker produce {:.0}/s, consume {:.0}/s; PostgreSQL commits {:.0}/s on 1 connection, {:.0}/s on 8\n  \
         ratios: {:.2}% of the broker's produce ceiling, {:.1}% of PostgreSQL's 1-connection commit rate, {:.1}% of its 8-connection rate",
        c.produce_per_second,
        c.consume_per_second,
        c.pg_commits_per_second_1,
        c.pg_commits_per_second_8,
        100.0 * sagas_per_second / c.produce_per_second,
        100.0 * sagas_per_second / c.pg_commits_per_second_1,
        100.0 * sagas_per_second / c.pg_commits_per_second_8,
    )
}

/// Prints a run's outcome; true if it passed.
fn print_outcome(outcome: &Outcome, ceilings: Option<&Ceilings>, json: bool) -> bool {
    print!("{}", outcome.report.render());
    if let Some(c) = ceilings {
        println!("{}", ratios(outcome.report.completed_per_second(), c));
    }
    if json {
        println!("{}", outcome.report.json());
    }
    for failure in &outcome.not_placed {
        eprintln!("saga-bench: not placed: {failure}");
    }
    match (&outcome.violations, outcome.not_placed.len()) {
        (None, 0) => println!("  invariants: all hold (SPEC §5)"),
        (None, n) => println!("  invariants: all hold, but {n} orders could not be placed"),
        (Some(v), _) => println!("  invariants: VIOLATED\n{v}"),
    }
    outcome.passed()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("saga-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let order_timeout: f64 = std::env::var("ORDER_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30.0);
    let api = api();
    if let Err(e) = run::wait_ready(&api, Duration::from_secs(60)).await {
        eprintln!("saga-bench: {e}");
        return ExitCode::FAILURE;
    }
    let plan = |mode| Plan {
        mode,
        duration: Duration::from_secs_f64(args.secs),
        customers: args.customers,
        skus: args.skus,
        order_timeout: Duration::from_secs_f64(order_timeout),
    };
    let dir = stack_dir();
    // The ceilings come first, on an idle system: every mode but smoke reports its ratios.
    let wants_ceilings = matches!(
        args.command,
        Command::Once { ceilings: true, .. } | Command::Sweep { .. }
    );
    let measured = if wants_ceilings {
        match ceiling::measure(20_000, 500).await {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("saga-bench: measuring the ceilings failed: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    match args.command {
        Command::Once { mode, .. } => match run::run(&api, &plan(mode), &dir).await {
            Ok(outcome) if print_outcome(&outcome, measured.as_ref(), args.json) => {
                ExitCode::SUCCESS
            }
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("saga-bench: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Sweep { from, step, max } => {
            let measured = measured.expect("a sweep measures the ceilings");
            let mut steps: Vec<Step> = Vec::new();
            let mut rate = from;
            let mut all_passed = true;
            while rate <= max {
                eprintln!("bench: sweep step at {rate} orders/s");
                let outcome = match run::run(&api, &plan(Mode::Open { rate }), &dir).await {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!("saga-bench: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                all_passed &= print_outcome(&outcome, Some(&measured), args.json);
                let s = Step::of(&outcome.report, outcome.violations.is_none());
                let kept_up = s.kept_up();
                steps.push(s);
                if !kept_up {
                    eprintln!("bench: the system stopped keeping up at {rate} orders/s");
                    break;
                }
                rate += step;
            }
            if let Err(e) = write_sweep(&steps, &measured, args.secs) {
                eprintln!("saga-bench: writing the sweep: {e}");
                return ExitCode::FAILURE;
            }
            if all_passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Writes the sweep's table into `docs/performance.md` and its chart to
/// `docs/performance-sweep.svg`.
fn write_sweep(steps: &[Step], c: &Ceilings, secs: f64) -> Result<(), String> {
    let docs = repo().join("docs");
    let svg = sweep::chart(steps, "open-loop sweep")?;
    std::fs::write(docs.join("performance-sweep.svg"), svg).map_err(|e| e.to_string())?;
    let best = steps
        .iter()
        .filter(|s| s.kept_up())
        .map(|s| s.completed)
        .fold(0.0, f64::max);
    let block = format!(
        "Sweep of {} (each step {secs:.0} s of open-loop load on a fresh mix; release build if \
         `scripts/start --release` started the system).\n\n{}\n\
         Ceilings measured in the same run: broker produce {:.0}/s, consume {:.0}/s; PostgreSQL \
         commits {:.0}/s on one connection, {:.0}/s on eight. The highest rate kept up, {best:.1} \
         sagas/s, is {:.1}% of PostgreSQL's one-connection commit rate and {:.2}% of the \
         broker's produce ceiling.\n\n![sweep](performance-sweep.svg)\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        sweep::table(steps),
        c.produce_per_second,
        c.consume_per_second,
        c.pg_commits_per_second_1,
        c.pg_commits_per_second_8,
        100.0 * best / c.pg_commits_per_second_1,
        100.0 * best / c.produce_per_second,
    );
    let path = docs.join("performance.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| "# Performance\n\nWritten by `scripts/bench sweep`.\n".to_owned());
    std::fs::write(&path, sweep::splice(&doc, &block)).map_err(|e| e.to_string())?;
    println!(
        "saga-bench: wrote {} and docs/performance-sweep.svg",
        path.display()
    );
    Ok(())
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
