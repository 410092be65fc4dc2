//! When a transaction the relay decoded is visible to the database's readers.
//!
//! PostgreSQL sends a transaction to logical decoding once its commit record is flushed, but
//! the transaction becomes visible to other sessions' snapshots a moment later, when its
//! backend leaves the process array. On a busy machine the backend can be descheduled in
//! between for milliseconds. An event published in that gap can travel to another service
//! and back, as its answer, before the writer's own rows are visible: orders would then read
//! no order for the answer to `order.created`. The table outbox never had the gap, since its
//! relay read the outbox through a snapshot.
//!
//! So the relay publishes a transaction's events only once a fresh snapshot
//! (`pg_current_snapshot()`) sees the transaction as completed: its id is below the
//! snapshot's `xmax` and not among those still in progress.
//!
//! When no snapshot can be had (the server is shutting down, or the pool is exhausted), the
//! relay publishes what it had decoded anyway: a server shutting down has ended every session,
//! and waits for its WAL senders, which wait for the relay.

use sqlx::PgPool;

/// What a snapshot says about transaction ids: `xmin:xmax:xip,…` of `pg_current_snapshot()`,
/// as 64-bit ids (epoch and 32-bit id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Every transaction below it has completed.
    xmin: u64,
    /// No transaction at or above it had completed when the snapshot was taken.
    xmax: u64,
    /// The transactions between the two still in progress.
    in_progress: Vec<u64>,
}

impl Snapshot {
    /// Reads the text form of a `pg_snapshot`, `xmin:xmax:xip1,xip2,…` (the list may be
    /// empty).
    pub fn parse(text: &str) -> anyhow::Result<Snapshot> {
        let mut parts = text.trim().splitn(3, ':');
        let mut next = |name: &str| {
            parts
                .next()
                .ok_or_else(|| anyhow::anyhow!("snapshot {text:?} has no {name}"))
        };
        let xmin = next("xmin")?.parse()?;
        let xmax = next("xmax")?.parse()?;
        let in_progress = next("xip list")?
            .split(',')
            .filter(|x| !x.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            xmin,
            xmax,
            in_progress,
        })
    }

    /// The database's snapshot now, read on `pool`.
    pub async fn current(pool: &PgPool) -> Result<Snapshot, anyhow::Error> {
        let text: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
            .fetch_one(pool)
            .await?;
        Snapshot::parse(&text)
    }

    /// Whether transaction `xid` (the 32-bit id logical decoding gives) had completed when the
    /// snapshot was taken. A 32-bit id is read as PostgreSQL compares them, modulo 2³²: the
    /// ids up to 2³¹ below `xmax` are before it, the others at or after it. A transaction
    /// decoded from the log is far more recent than that.
    pub fn has_completed(&self, xid: u32) -> bool {
        // How far `xid` is from xmax, −2³¹ ≤ diff < 2³¹.
        let diff = xid.wrapping_sub(self.xmax as u32) as i32;
        if diff >= 0 {
            return false;
        }
        match self.xmax.checked_sub(u64::from(diff.unsigned_abs())) {
            Some(full) => !self.in_progress.contains(&full),
            // Before the server's first transaction: long completed, as far as it can tell.
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_its_bounds_and_the_transactions_in_progress() {
        let s = Snapshot::parse("100:110:102,105").unwrap();
        assert_eq!(
            (s.xmin, s.xmax, s.in_progress.clone()),
            (100, 110, vec![102, 105])
        );
        assert_eq!(
            Snapshot::parse("7:7:").unwrap().in_progress,
            Vec::<u64>::new()
        );
        assert!(Snapshot::parse("7:7").is_err());
        assert!(Snapshot::parse("a:7:").is_err());
    }

    #[test]
    fn a_transaction_has_completed_below_xmax_unless_in_progress() {
        let s = Snapshot::parse("100:110:102,105").unwrap();
        assert!(s.has_completed(99));
        assert!(s.has_completed(101));
        assert!(!s.has_completed(102));
        assert!(!s.has_completed(105));
        assert!(s.has_completed(109));
        // At or above xmax: not completed when the snapshot was taken.
        assert!(!s.has_completed(110));
        assert!(!s.has_completed(200));
    }

    #[test]
    fn a_32_bit_id_takes_the_epoch_that_puts_it_below_xmax() {
        let epoch = 3u64 << 32;
        let s = Snapshot::parse(&format!("{}:{}:{}", epoch - 10, epoch + 5, epoch - 2)).unwrap();
        // 2³² − 2 is the previous epoch's, two below the new one: still in progress.
        assert!(!s.has_completed(u32::MAX - 1));
        assert!(s.has_completed(u32::MAX));
        assert!(s.has_completed(4));
        assert!(!s.has_completed(5));
    }
}
