//! `saga-bench`'s commands once parsed: wait for the system, measure the ceilings on it idle
//! (every command but smoke), then one run or the sweep's rising steps, printing each run and
//! publishing the sweep. Returns the process's exit code.

use std::process::ExitCode;
use std::time::Duration;

use super::args::{Args, Command};
use super::ceiling::{self, Ceilings};
use super::print::print_outcome;
use super::publish::write_sweep;
use super::run::{self, Mode, Plan};
use super::sweep::Step;
use super::system;

/// Runs the command: success if every run passed (invariants held, every order placed).
pub async fn execute(args: Args) -> ExitCode {
    let order_timeout = system::order_timeout();
    let api = system::api();
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
    let dir = system::stack_dir();
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
            published(&steps, &measured, args.secs, all_passed)
        }
    }
}

/// Writes the sweep out: failure if that fails or a step did not pass.
fn published(steps: &[Step], measured: &Ceilings, secs: f64, all_passed: bool) -> ExitCode {
    if let Err(e) = write_sweep(steps, measured, secs) {
        eprintln!("saga-bench: writing the sweep: {e}");
        return ExitCode::FAILURE;
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
