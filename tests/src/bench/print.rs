//! What `saga-bench` prints after each run: the report, the ratios to the ceilings measured
//! in the same run, the orders that could not be placed and whether the invariants hold.

use super::ceiling::Ceilings;
use super::run::Outcome;

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
pub fn print_outcome(outcome: &Outcome, ceilings: Option<&Ceilings>, json: bool) -> bool {
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
