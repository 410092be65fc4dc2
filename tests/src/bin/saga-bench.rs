//! `saga-bench`: the saga benchmark, against the system `scripts/start` runs (see
//! `saga_tests::bench`). Usually run through `scripts/bench`.
//!
//! ```text
//! saga-bench open --rate 50 --secs 30      50 orders/s offered for 30 s
//! saga-bench closed --clients 20 --secs 30 20 clients, each waiting for its saga to end
//! saga-bench smoke                         5 orders/s for 4 s: correctness only (CI)
//! ```
//! Options: `--customers N` (50), `--skus N` (20), `--json` (also print the figures as one
//! JSON line). Environment: `BENCH_HOST` (127.0.0.1; the services listen on 8001–8005),
//! `ORDER_TIMEOUT_SECS` (the services' saga deadline, 30), `STACK_DIR` (`<repo>/.stack`).
//! Exits non-zero if an invariant of SPEC §5 is violated or an order could not be placed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use saga_tests::actions::Actor;
use saga_tests::bench::report::Report;
use saga_tests::bench::{cpu, drive};
use saga_tests::checker::{await_invariants, Ledger};
use saga_tests::client::Api;
use saga_tests::service::Service;
use saga_tests::workload::{self, MixSpec};

/// How the load is offered.
enum Mode {
    Open { rate: f64 },
    Closed { clients: usize },
}

/// The command line, parsed.
struct Args {
    mode: Mode,
    secs: f64,
    customers: usize,
    skus: usize,
    json: bool,
}

const USAGE: &str =
    "usage: saga-bench open --rate R [--secs S] | closed --clients N [--secs S] | smoke\n       \
    [--customers N] [--skus N] [--json]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let command = args.next().ok_or("no command")?;
    let mut parsed = Args {
        mode: Mode::Open { rate: 0.0 },
        secs: 30.0,
        customers: 50,
        skus: 20,
        json: false,
    };
    let (mut rate, mut clients) = (None, None);
    while let Some(flag) = args.next() {
        let mut value = |name: &str| -> Result<String, String> {
            args.next().ok_or(format!("{name} needs a value"))
        };
        let number = |text: String, name: &str| -> Result<f64, String> {
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or(format!("{name} must be a positive number, not {text:?}"))
        };
        match flag.as_str() {
            "--rate" => rate = Some(number(value("--rate")?, "--rate")?),
            "--clients" => clients = Some(number(value("--clients")?, "--clients")? as usize),
            "--secs" => parsed.secs = number(value("--secs")?, "--secs")?,
            "--customers" => {
                parsed.customers = number(value("--customers")?, "--customers")? as usize
            }
            "--skus" => parsed.skus = number(value("--skus")?, "--skus")? as usize,
            "--json" => parsed.json = true,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    parsed.mode = match command.as_str() {
        "open" => Mode::Open {
            rate: rate.ok_or("open needs --rate")?,
        },
        "closed" => Mode::Closed {
            clients: clients.ok_or("closed needs --clients")?.max(1),
        },
        "smoke" => {
            parsed.secs = 4.0;
            parsed.customers = parsed.customers.min(10);
            parsed.skus = parsed.skus.min(8);
            Mode::Open { rate: 5.0 }
        }
        other => return Err(format!("unknown command {other:?}")),
    };
    Ok(parsed)
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

fn stack_dir() -> PathBuf {
    std::env::var_os("STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("the repository")
                .join(".stack")
        })
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
    for service in Service::ALL {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !api.ready(service).await {
            if Instant::now() > deadline {
                eprintln!(
                    "saga-bench: {} is not ready at {}; is the system running (scripts/start)?",
                    service.name(),
                    api.url(service, "/ready")
                );
                return ExitCode::FAILURE;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let actor = Actor {
        api: api.clone(),
        ledger: Arc::new(Ledger::default()),
    };
    eprintln!(
        "bench: setting up {} customers and {} SKUs (every 5th poor, every 5th scarce)",
        args.customers, args.skus
    );
    let spec = MixSpec {
        customers: args.customers,
        poor_every: 5,
        skus: args.skus,
        scarce_every: 5,
    };
    let mix = workload::setup(&actor, &spec).await;
    // The orders service learns customers and prices from events: one order per customer
    // (covering every SKU) waits until it knows them all, so the load starts on a warm system.
    eprintln!("bench: warming up (one order per customer)");
    for (i, &customer) in mix.customers.iter().enumerate() {
        let sku = mix.skus[i % mix.skus.len()].clone();
        if let Err(e) = actor.try_order(customer, &[(sku, 1)]).await {
            eprintln!("saga-bench: warm-up order failed: {e}");
            return ExitCode::FAILURE;
        }
    }

    let ticks = cpu::ticks_per_second();
    let dir = stack_dir();
    let before = cpu::sample(&dir, ticks);
    let duration = Duration::from_secs_f64(args.secs);
    let (mode, placed) = match args.mode {
        Mode::Open { rate } => {
            eprintln!("bench: open loop, {rate} orders/s for {:.0}s", args.secs);
            (
                format!("open loop, {rate} orders/s offered for {:.0}s", args.secs),
                drive::open_loop(&actor, &mix, rate, duration, 11).await,
            )
        }
        Mode::Closed { clients } => {
            eprintln!(
                "bench: closed loop, {clients} clients for {:.0}s",
                args.secs
            );
            (
                format!("closed loop, {clients} clients for {:.0}s", args.secs),
                drive::closed_loop(
                    &actor,
                    &mix,
                    clients,
                    duration,
                    Duration::from_millis(10),
                    11,
                )
                .await,
            )
        }
    };
    let settle_within = Duration::from_secs_f64(order_timeout + 10.0);
    let orders = drive::settle(&actor, &placed.orders, settle_within).await;
    let after = cpu::sample(&dir, ticks);
    let report = Report {
        mode,
        offered: placed.orders.len() + placed.failures.len(),
        offered_for: placed.offered_for,
        orders,
        failures: placed.failures.len(),
        cpu: cpu::spent(&before, &after),
    };
    print!("{}", report.render());
    if args.json {
        println!("{}", report.json());
    }
    for failure in &placed.failures {
        eprintln!("saga-bench: not placed: {failure}");
    }

    let within = Duration::from_secs_f64(order_timeout + 30.0);
    match await_invariants(&api, &actor.ledger, within).await {
        Ok(_) if placed.failures.is_empty() => {
            println!("  invariants: all hold (SPEC §5)");
            ExitCode::SUCCESS
        }
        Ok(_) => {
            println!(
                "  invariants: all hold, but {} orders could not be placed",
                placed.failures.len()
            );
            ExitCode::FAILURE
        }
        Err(violations) => {
            println!("  invariants: VIOLATED\n{violations}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Args, String> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_each_mode_and_rejects_bad_input() {
        assert!(
            matches!(args("open --rate 50 --secs 10").unwrap().mode, Mode::Open { rate } if rate == 50.0)
        );
        assert!(matches!(
            args("closed --clients 20").unwrap().mode,
            Mode::Closed { clients: 20 }
        ));
        let smoke = args("smoke").unwrap();
        assert_eq!(smoke.secs, 4.0);
        assert!(args("open").is_err(), "open needs a rate");
        assert!(args("open --rate -1").is_err());
        assert!(args("open --rate 5 --bogus").is_err());
        assert!(args("sideways").is_err());
    }
}
