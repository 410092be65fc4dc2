//! PostgreSQL's own counters over a run, read as the server's superuser over verified TLS (the
//! test kit's administrator: `TEST_DATABASE_URL`, by default the local stack's server as
//! `postgres`, its password from `TEST_DATABASE_PASSWORD(_FILE)` or `.stack/secrets`):
//! - transactions, `xact_commit + xact_rollback` of `pg_stat_database`, for each of the
//!   services' databases ([`DATABASES`]). Everything run in them counts, the services'
//!   background work included (the outbox relays' fallback polls); the probe's own connection
//!   is on the `postgres` database, so it does not;
//! - WAL records, full-page images, bytes and syncs to disk (`wal_records`, `wal_fpi`,
//!   `wal_bytes`, `wal_sync` of `pg_stat_wal`, PostgreSQL 14 and later). These are the whole
//!   server's, so whatever else runs on it meanwhile counts too.
//!
//! A backend publishes its counts only now and then (PostgreSQL 15): at the end of a
//! transaction if a second has passed since it last did, else once it has been idle for 10 s.
//! So before a sample the probe waits, polling `pg_stat_activity`, until every backend of the
//! services' databases has published what it counted before a mark taken on the server's
//! clock: it is idle and either went idle more than a second after the mark (it ended a
//! transaction after the mark, and published then or in between) or has been idle for more
//! than 10 s. The wait is bounded; a sample taken without it says so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};

use saga_messaging::postgres::{connect_options_with, redacted_url};
use saga_messaging::testing::{admin_database_url, ADMIN_PASSWORD_VARIABLE};

/// The services' databases, each named after the service that owns it (`scripts/stack`).
pub const DATABASES: [&str; 4] = ["customer", "orders", "inventory", "billing"];

/// How long after a mark a backend's next transaction ends for it to have published what it
/// counted before the mark: PostgreSQL's one second between publications, and a margin.
const AFTER_MARK: &str = "1.5 seconds";
/// How long a backend idles before it publishes what it holds: PostgreSQL's 10 s, and a margin.
const IDLE_FOR: &str = "11 seconds";
/// How often the wait asks again.
const POLL: Duration = Duration::from_millis(250);

/// The WAL the server wrote, as `pg_stat_wal` counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wal {
    /// `wal_records`.
    pub records: u64,
    /// `wal_fpi`: full-page images, one per page first changed after a checkpoint.
    pub fpi: u64,
    /// `wal_bytes`.
    pub bytes: u64,
    /// `wal_sync`: WAL files synced to disk (`fsync`, `fdatasync`).
    pub syncs: u64,
}

impl Wal {
    /// What `self` counts beyond `before` (0 where a counter went back: a reset).
    pub fn since(&self, before: &Wal) -> Wal {
        Wal {
            records: self.records.saturating_sub(before.records),
            fpi: self.fpi.saturating_sub(before.fpi),
            bytes: self.bytes.saturating_sub(before.bytes),
            syncs: self.syncs.saturating_sub(before.syncs),
        }
    }
}

/// The counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// database → transactions committed or rolled back so far (only the databases found).
    pub transactions: BTreeMap<String, u64>,
    /// The server's WAL so far.
    pub wal: Wal,
    /// Whether every backend of the services' databases had published its counts.
    pub published: bool,
}

/// What the counters moved between two samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spent {
    /// database → transactions (the databases of the later sample).
    pub transactions: BTreeMap<String, u64>,
    /// The server's WAL.
    pub wal: Wal,
    /// Both samples were taken once the backends had published.
    pub published: bool,
}

impl Spent {
    /// Transactions in all the services' databases together.
    pub fn all_transactions(&self) -> u64 {
        self.transactions.values().sum()
    }
}

/// The counters' differences between two samples. A database seen only in `after` counts
/// whole; one gone by then is left out.
pub fn spent(before: &Sample, after: &Sample) -> Spent {
    Spent {
        transactions: after
            .transactions
            .iter()
            .map(|(db, &now)| {
                let then = before.transactions.get(db).copied().unwrap_or(0);
                (db.clone(), now.saturating_sub(then))
            })
            .collect(),
        wal: after.wal.since(&before.wal),
        published: before.published && after.published,
    }
}

/// A connection to the server as its superuser.
pub struct Probe {
    connection: PgConnection,
}

impl Probe {
    /// Connects to the `postgres` database as the superuser; the error names the server (its
    /// URL without the password).
    pub async fn connect() -> Result<Probe, String> {
        let options = connect_options_with(&admin_database_url(), ADMIN_PASSWORD_VARIABLE)
            .map_err(|e| format!("the PostgreSQL superuser's settings: {e}"))?;
        let shown = redacted_url(&options);
        let connection = PgConnection::connect_with(&options)
            .await
            .map_err(|e| format!("connecting to {shown}: {e}"))?;
        Ok(Probe { connection })
    }

    /// Waits (at most `within`) until every backend has published what it counted up to now,
    /// then samples the counters.
    pub async fn published_sample(&mut self, within: Duration) -> Result<Sample, String> {
        let mark: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&mut self.connection)
            .await
            .map_err(|e| format!("the server's clock: {e}"))?;
        let published = self.await_published(mark, within).await?;
        let mut sample = self.sample().await?;
        sample.published = published;
        Ok(sample)
    }

    /// Polls until no backend of the services' databases may still hold counts from before
    /// `mark`; false if some still may after `within`.
    async fn await_published(
        &mut self,
        mark: DateTime<Utc>,
        within: Duration,
    ) -> Result<bool, String> {
        let query = format!(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname::text = ANY($1) AND backend_type = 'client backend'
               AND pid <> pg_backend_pid()
               AND NOT coalesce(state = 'idle' AND (
                     state_change >= $2 + interval '{AFTER_MARK}'
                     OR state_change <= clock_timestamp() - interval '{IDLE_FOR}'), false)"
        );
        let deadline = Instant::now() + within;
        loop {
            let holding: i64 = sqlx::query_scalar(&query)
                .bind(&DATABASES[..])
                .bind(mark)
                .fetch_one(&mut self.connection)
                .await
                .map_err(|e| format!("reading pg_stat_activity: {e}"))?;
            if holding == 0 {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The counters now (`published` left false: [`Probe::published_sample`] sets it).
    async fn sample(&mut self) -> Result<Sample, String> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT datname::text, xact_commit + xact_rollback FROM pg_stat_database
             WHERE datname::text = ANY($1)",
        )
        .bind(&DATABASES[..])
        .fetch_all(&mut self.connection)
        .await
        .map_err(|e| format!("reading pg_stat_database: {e}"))?;
        let (records, fpi, bytes, syncs): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT wal_records, wal_fpi, wal_bytes::bigint, wal_sync FROM pg_stat_wal",
        )
        .fetch_one(&mut self.connection)
        .await
        .map_err(|e| format!("reading pg_stat_wal: {e}"))?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Sample {
            transactions: rows.into_iter().map(|(db, n)| (db, count(n))).collect(),
            wal: Wal {
                records: count(records),
                fpi: count(fpi),
                bytes: count(bytes),
                syncs: count(syncs),
            },
            published: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(transactions: &[(&str, u64)], records: u64, published: bool) -> Sample {
        Sample {
            transactions: transactions
                .iter()
                .map(|&(db, n)| (db.to_owned(), n))
                .collect(),
            wal: Wal {
                records,
                fpi: records / 10,
                bytes: records * 100,
                syncs: records / 20,
            },
            published,
        }
    }

    #[test]
    fn spent_is_the_difference_per_database_and_of_the_wal() {
        let before = sample(&[("orders", 1000), ("billing", 400)], 5000, true);
        let after = sample(
            &[("orders", 1300), ("billing", 450), ("customer", 20)],
            8000,
            true,
        );
        let spent = spent(&before, &after);
        assert_eq!(
            spent.transactions,
            BTreeMap::from([
                ("billing".to_owned(), 50),
                ("customer".to_owned(), 20),
                ("orders".to_owned(), 300),
            ])
        );
        assert_eq!(spent.all_transactions(), 370);
        assert_eq!(
            spent.wal,
            Wal {
                records: 3000,
                fpi: 300,
                bytes: 300_000,
                syncs: 150
            }
        );
        assert!(spent.published);
    }

    #[test]
    fn a_reset_counts_nothing_and_an_unpublished_sample_taints_the_difference() {
        let before = sample(&[("orders", 1000)], 5000, true);
        let after = sample(&[("orders", 10)], 100, false);
        let spent = spent(&before, &after);
        assert_eq!(spent.all_transactions(), 0);
        assert_eq!(spent.wal, Wal::default());
        assert!(!spent.published);
    }
}
