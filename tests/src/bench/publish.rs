//! The sweep published: its tables (rates and latency, counts per saga) and ceilings spliced
//! into `docs/performance.md`, its chart written to `docs/performance-sweep.svg`.

use super::ceiling::Ceilings;
use super::sweep::{self, Step};
use super::system::repo;

/// Writes the sweep's tables into `docs/performance.md` and its chart to
/// `docs/performance-sweep.svg`.
pub fn write_sweep(steps: &[Step], c: &Ceilings, secs: f64) -> Result<(), String> {
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
         Counts per completed saga in the same steps (transactions in the services' \
         databases; WAL and its syncs of the whole PostgreSQL server; context switches of \
         every process of the system; records produced to the run's event and dead-letter \
         topics):\n\n{}\n\
         Ceilings measured in the same run: broker produce {:.0}/s, consume {:.0}/s; PostgreSQL \
         commits {:.0}/s on one connection, {:.0}/s on eight. The highest rate kept up, {best:.1} \
         sagas/s, is {:.1}% of PostgreSQL's one-connection commit rate and {:.2}% of the \
         broker's produce ceiling.\n\n![sweep](performance-sweep.svg)\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        sweep::table(steps),
        sweep::counts_table(steps),
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
