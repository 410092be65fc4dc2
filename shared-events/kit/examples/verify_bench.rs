//! What verifying a bearer token costs a service: the stack's Keycloak issues the operator's
//! access token (RS256), then one verifier checks it `VERIFY_ROUNDS` times (default 2000) on one
//! thread, its keys already fetched. Prints the CPU time per verification of this process
//! (user + system, from `/proc/self/stat`) and the wall time.
//!
//! Run: `cargo run --release -p saga-kit --features testing --example verify_bench`
//! with the stack up (`scripts/stack up`).

use std::time::Instant;

use saga_kit::auth::{AuthSettings, Verifier};
use saga_kit::testing::identity::{token, Account};

/// This process's CPU seconds so far (utime + stime of `/proc/self/stat`, in clock ticks of
/// 1/100 s, the kernel's USER_HZ).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds: u32 = std::env::var("VERIFY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let verifier = Verifier::new(&AuthSettings::local()).expect("a verifier");
    let token = token(Account::Operator).await;
    let header = jsonwebtoken::decode_header(&token).expect("a JWT");
    verifier.verify(&token).await.expect("the operator's token");
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    for _ in 0..rounds {
        verifier.verify(&token).await.expect("the operator's token");
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    println!(
        "verify_bench: {rounds} verifications of a {:?} token: {:.1} µs CPU, {:.1} µs wall each",
        header.alg,
        cpu * 1e6 / f64::from(rounds),
        wall * 1e6 / f64::from(rounds)
    );
}
