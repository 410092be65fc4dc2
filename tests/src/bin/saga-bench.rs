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
//!
//! The parsing is `saga_tests::bench::args`; the commands, `saga_tests::bench::command`.

use std::process::ExitCode;

use saga_tests::bench::args::{parse, USAGE};
use saga_tests::bench::command;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("saga-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    command::execute(args).await
}
