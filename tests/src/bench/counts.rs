//! What a run counted beside the CPU it spent, as differences between a sample before the load
//! and one after it: PostgreSQL's transactions and WAL ([`super::pgstats`]), the context
//! switches and threads of the system's processes ([`super::switches`]), and the Kafka records
//! produced in the run's namespace ([`super::produced`]). These counts barely move from run to
//! run on a noisy machine, so a before/after comparison of a change rests on them.
//!
//! The switches are sampled where the CPU is: right before the load and as soon as every
//! order has ended. PostgreSQL and the broker are sampled right before the load, and after the
//! orders ended once PostgreSQL's backends have published what they counted, so what the last
//! sagas did is in. A store that cannot be read leaves its counts out with the reason; the run
//! goes on.

use std::collections::BTreeMap;
use std::time::Duration;

use saga_messaging::KafkaConfig;

use super::pgstats::{self, Probe};
use super::produced::{self, Produced};
use super::switches;

/// How long a sample waits for PostgreSQL's backends to publish their counts.
const PUBLISHED_WITHIN: Duration = Duration::from_secs(20);

/// What samples the stores: a superuser connection to PostgreSQL and the broker's settings.
pub struct Counter {
    probe: Result<Probe, String>,
    kafka: Result<KafkaConfig, String>,
}

/// The stores' counters at one moment.
pub struct Stores {
    postgres: Result<pgstats::Sample, String>,
    kafka: Result<produced::Sample, String>,
}

impl Counter {
    /// Connects to PostgreSQL as its superuser; `kafka` is the operator's settings.
    pub async fn connect(kafka: Result<KafkaConfig, String>) -> Counter {
        Counter {
            probe: Probe::connect().await,
            kafka,
        }
    }

    /// Samples PostgreSQL (once its backends have published) and the broker.
    pub async fn sample(&mut self) -> Stores {
        let postgres = match &mut self.probe {
            Ok(probe) => probe.published_sample(PUBLISHED_WITHIN).await,
            Err(e) => Err(e.clone()),
        };
        let kafka = match &self.kafka {
            Ok(config) => produced::sample(config).await,
            Err(e) => Err(e.clone()),
        };
        Stores { postgres, kafka }
    }

    /// The counts between two samples of the stores and two of the processes.
    pub fn counts(
        &self,
        stores: (&Stores, &Stores),
        processes: (&switches::Sample, &switches::Sample),
    ) -> Counts {
        let postgres = match (&stores.0.postgres, &stores.1.postgres) {
            (Ok(before), Ok(after)) => Ok(pgstats::spent(before, after)),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        let kafka = match (&self.kafka, &stores.0.kafka, &stores.1.kafka) {
            (Ok(config), Ok(before), Ok(after)) => Ok((
                config.topic_prefix.clone(),
                produced::produced(config, before, after),
            )),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.clone()),
        };
        Counts {
            postgres,
            kafka,
            switches: switches::spent(processes.0, processes.1),
            threads: switches::threads(processes.1),
        }
    }
}

/// What a run counted, as raw totals.
#[derive(Debug, Clone)]
pub struct Counts {
    /// PostgreSQL's transactions per service database and the server's WAL, or why not.
    pub postgres: Result<pgstats::Spent, String>,
    /// The run's topic prefix and the records produced in its namespace, or why not.
    pub kafka: Result<(String, Produced), String>,
    /// group → context switches (voluntary + nonvoluntary, every thread).
    pub switches: BTreeMap<String, u64>,
    /// group → its processes' threads at the end of the run.
    pub threads: BTreeMap<String, u64>,
}

/// `total` per saga of `sagas`; `None` when no saga completed.
pub fn per_saga(total: u64, sagas: usize) -> Option<f64> {
    (sagas > 0).then(|| total as f64 / sagas as f64)
}

/// The counts per completed saga (`None`: not measured, or no saga completed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PerSaga {
    /// Transactions in the services' databases.
    pub transactions: Option<f64>,
    pub wal_records: Option<f64>,
    pub wal_fpi: Option<f64>,
    pub wal_bytes: Option<f64>,
    pub wal_syncs: Option<f64>,
    /// Context switches of every part shown, together.
    pub switches: Option<f64>,
    /// Records produced to the event topics.
    pub kafka_records: Option<f64>,
    /// Records produced to the dead-letter topics.
    pub dead_letters: Option<f64>,
}

impl Counts {
    /// The context switches of the `parts` shown (those with a figure), together.
    pub fn switches_of(&self, parts: &[&str]) -> u64 {
        parts.iter().filter_map(|p| self.switches.get(*p)).sum()
    }

    /// The counts per saga of `sagas` completed, the switches of `parts` together.
    pub fn per_saga(&self, sagas: usize, parts: &[&str]) -> PerSaga {
        let pg = self.postgres.as_ref().ok();
        let kafka = self.kafka.as_ref().ok().map(|(_, p)| p);
        let of = |n: Option<u64>| n.and_then(|n| per_saga(n, sagas));
        PerSaga {
            transactions: of(pg.map(pgstats::Spent::all_transactions)),
            wal_records: of(pg.map(|p| p.wal.records)),
            wal_fpi: of(pg.map(|p| p.wal.fpi)),
            wal_bytes: of(pg.map(|p| p.wal.bytes)),
            wal_syncs: of(pg.map(|p| p.wal.syncs)),
            switches: of(Some(self.switches_of(parts))),
            kafka_records: of(kafka.map(|k| k.events)),
            dead_letters: of(kafka.map(|k| k.dead_letters)),
        }
    }

    /// The counts as printed after the CPU: a table per saga and raw, for `sagas` completed
    /// sagas and the `parts` of the system shown.
    pub fn render(&self, sagas: usize, parts: &[&str]) -> String {
        let mut rows: Vec<[String; 4]> = Vec::new();
        let mut row = |what: &str, total: u64, note: String| {
            let each = per_saga(total, sagas).map_or_else(|| "n/a".to_owned(), fmt);
            rows.push([what.to_owned(), each, total.to_string(), note]);
        };
        let mut notes = Vec::new();
        match &self.postgres {
            Ok(pg) => {
                let databases: Vec<String> = pg
                    .transactions
                    .iter()
                    .map(|(db, n)| format!("{db} {n}"))
                    .collect();
                row(
                    "PostgreSQL transactions",
                    pg.all_transactions(),
                    format!("databases: {}", databases.join(", ")),
                );
                row("WAL records", pg.wal.records, "whole server".into());
                row("WAL full-page images", pg.wal.fpi, "whole server".into());
                row("WAL bytes", pg.wal.bytes, "whole server".into());
                row("WAL syncs (fsync)", pg.wal.syncs, "whole server".into());
                if !pg.published {
                    notes.push(format!(
                        "PostgreSQL: not every backend had published its counts within {}s; \
                         up to a second of each one's work may be missing",
                        PUBLISHED_WITHIN.as_secs()
                    ));
                }
            }
            Err(e) => notes.push(format!("PostgreSQL: not counted ({e})")),
        }
        match &self.kafka {
            Ok((prefix, k)) => {
                let namespace = format!("namespace {prefix:?}");
                row("Kafka records", k.events, namespace.clone());
                row("Kafka dead letters", k.dead_letters, namespace);
            }
            Err(e) => notes.push(format!("Kafka: not counted ({e})")),
        }
        for part in parts {
            if let Some(&n) = self.switches.get(*part) {
                let threads = self
                    .threads
                    .get(*part)
                    .map_or_else(String::new, |t| format!("{t} threads at the end"));
                row(&format!("context switches: {part}"), n, threads);
            }
        }
        row(
            "context switches: all",
            self.switches_of(parts),
            "voluntary + nonvoluntary, every thread".into(),
        );

        let mut out = format!(
            "  counts ({} completed sagas):\n    {:<32} {:>10} {:>12}\n",
            sagas, "", "per saga", "total"
        );
        for [what, each, total, note] in rows {
            let line = format!("    {what:<32} {each:>10} {total:>12}  {note}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for note in notes {
            out.push_str(&format!("    ({note})\n"));
        }
        out
    }

    /// The counts as JSON: raw, and per saga of `sagas` with the switches of `parts` together.
    pub fn json(&self, sagas: usize, parts: &[&str]) -> serde_json::Value {
        let postgres = match &self.postgres {
            Ok(pg) => serde_json::json!({
                "transactions": pg.transactions,
                "wal_records": pg.wal.records,
                "wal_fpi": pg.wal.fpi,
                "wal_bytes": pg.wal.bytes,
                "wal_syncs": pg.wal.syncs,
                "published": pg.published,
            }),
            Err(e) => serde_json::json!({ "error": e }),
        };
        let kafka = match &self.kafka {
            Ok((prefix, k)) => serde_json::json!({
                "namespace": prefix,
                "records": k.events,
                "dead_letters": k.dead_letters,
                "per_topic": k.per_topic,
            }),
            Err(e) => serde_json::json!({ "error": e }),
        };
        let p = self.per_saga(sagas, parts);
        serde_json::json!({
            "postgres": postgres,
            "kafka": kafka,
            "context_switches": self.switches,
            "threads": self.threads,
            "per_saga": {
                "transactions": p.transactions,
                "wal_records": p.wal_records,
                "wal_fpi": p.wal_fpi,
                "wal_bytes": p.wal_bytes,
                "wal_syncs": p.wal_syncs,
                "context_switches": p.switches,
                "kafka_records": p.kafka_records,
                "kafka_dead_letters": p.dead_letters,
            },
        })
    }
}

/// A per-saga figure: two decimals below 100, none above.
fn fmt(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::pgstats::Wal;

    fn counts() -> Counts {
        Counts {
            postgres: Ok(pgstats::Spent {
                transactions: BTreeMap::from([
                    ("billing".to_owned(), 300),
                    ("orders".to_owned(), 900),
                ]),
                wal: Wal {
                    records: 16_600,
                    fpi: 40,
                    bytes: 2_600_000,
                    syncs: 970,
                },
                published: true,
            }),
            kafka: Ok((
                String::new(),
                Produced {
                    per_topic: BTreeMap::from([("order.created".to_owned(), 100)]),
                    events: 1000,
                    dead_letters: 2,
                },
            )),
            switches: BTreeMap::from([
                ("orders".to_owned(), 20_000),
                ("postgres".to_owned(), 15_000),
                ("mongodb".to_owned(), 5_000),
            ]),
            threads: BTreeMap::from([("orders".to_owned(), 17)]),
        }
    }

    #[test]
    fn per_saga_divides_by_the_completed_sagas_and_has_nothing_without_any() {
        assert_eq!(per_saga(300, 100), Some(3.0));
        assert_eq!(per_saga(300, 0), None);
        let c = counts();
        let p = c.per_saga(100, &["orders", "postgres"]);
        assert_eq!(p.transactions, Some(12.0));
        assert_eq!(p.wal_records, Some(166.0));
        assert_eq!(p.wal_fpi, Some(0.4));
        assert_eq!(p.wal_bytes, Some(26_000.0));
        assert_eq!(p.wal_syncs, Some(9.7));
        // Only the parts shown: the MongoDB-protocol server is left out here.
        assert_eq!(p.switches, Some(350.0));
        assert_eq!((p.kafka_records, p.dead_letters), (Some(10.0), Some(0.02)));
        assert_eq!(c.per_saga(0, &["orders"]), PerSaga::default());
    }

    #[test]
    fn a_store_not_counted_has_no_figures_and_the_table_says_why() {
        let mut c = counts();
        c.postgres = Err("connecting to postgres://postgres@h/postgres: refused".into());
        let p = c.per_saga(100, &["orders"]);
        assert_eq!((p.transactions, p.wal_records), (None, None));
        assert_eq!(p.kafka_records, Some(10.0));
        let table = c.render(100, &["orders"]);
        assert!(
            table.contains("PostgreSQL: not counted (connecting to"),
            "{table}"
        );
        assert!(!table.contains("WAL records"), "{table}");
    }

    #[test]
    fn the_table_has_a_row_per_count_with_the_figure_per_saga_and_the_total() {
        let table = counts().render(100, &["orders", "postgres"]);
        let line = |start: &str| {
            table
                .lines()
                .find(|l| l.trim_start().starts_with(start))
                .unwrap_or_else(|| panic!("no {start} in\n{table}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            line("PostgreSQL transactions"),
            "PostgreSQL transactions 12.00 1200 databases: billing 300, orders 900"
        );
        assert_eq!(line("WAL records"), "WAL records 166 16600 whole server");
        assert_eq!(line("WAL syncs"), "WAL syncs (fsync) 9.70 970 whole server");
        assert_eq!(
            line("Kafka records"),
            "Kafka records 10.00 1000 namespace \"\""
        );
        assert_eq!(
            line("context switches: orders"),
            "context switches: orders 200 20000 17 threads at the end"
        );
        assert!(line("context switches: all").starts_with("context switches: all 350 35000"));
        assert!(!table.contains("mongodb"), "{table}");
        assert!(!table.contains("not every backend"), "{table}");
    }

    #[test]
    fn the_json_has_the_raw_counts_and_the_figures_per_saga() {
        let json = counts().json(100, &["orders", "postgres"]);
        assert_eq!(json["postgres"]["wal_records"], 16_600);
        assert_eq!(json["postgres"]["transactions"]["orders"], 900);
        assert_eq!(json["kafka"]["per_topic"]["order.created"], 100);
        assert_eq!(json["context_switches"]["mongodb"], 5000);
        assert_eq!(json["per_saga"]["wal_records"], 166.0);
        assert_eq!(json["per_saga"]["context_switches"], 350.0);
    }
}
