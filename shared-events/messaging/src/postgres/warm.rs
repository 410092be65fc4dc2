//! Connections a hot path keeps checked out between its transactions.
//!
//! sqlx tests every connection with a round trip to the server when it goes back to the pool
//! (`ping` in `PoolConnection::return_to_pool`, which no option turns off). On a path that
//! runs one short transaction per event, that is one round trip in six or seven, paid by the
//! service and by PostgreSQL alike. [`Warm`] keeps a few connections out of the pool after a
//! transaction that ended cleanly and hands them to the next one directly.
//!
//! A connection is returned to the pool (and so tested and, past its lifetime, replaced) when
//! it has been kept for [`KEEP_FOR`], when the cache is full, or when its transaction failed:
//! a connection in an unknown state is never reused from here.
//!
//! # Headroom
//!
//! A kept connection is one the rest of the service cannot have: HTTP requests, `/ready` and
//! the periodic sweeps all draw on the same pool (the outbox relay streams on a replication
//! connection of its own), and an HTTP request that waits out
//! the pool's acquire timeout answers 503. So the cache never eats into [`HEADROOM`]:
//! - it holds at most half the pool, and never more than the pool less [`HEADROOM`] (a pool of
//!   two or fewer keeps nothing warm);
//! - a connection is kept only if, once kept, the pool can still hand out [`HEADROOM`]
//!   connections at once (idle ones, or room to open more). Under pressure, when other paths
//!   hold the rest of the pool or wait for it, connections go straight back, to whoever waits.
//!
//! The benefit is kept where it is: a burst of events on a pool with room to spare.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

/// How long a connection may stay out of the pool before it goes back to be tested.
pub const KEEP_FOR: Duration = Duration::from_secs(30);

/// Connections the pool must still be able to hand out at once for a connection to be kept:
/// one for an HTTP request and one for a sweep or `/ready`.
pub const HEADROOM: usize = 2;

/// A connection on loan from [`Warm`]. Give it back with [`Warm::give_back`] once its
/// transaction committed or rolled back; dropping it instead returns it to the pool.
pub struct Loan {
    /// The connection, which holds one of the pool's permits while on loan.
    pub conn: PoolConnection<Postgres>,
    /// When it left the pool: after [`KEEP_FOR`] it goes back.
    since: Instant,
}

/// A small cache of connections taken from `pool`.
pub struct Warm {
    /// Where connections come from and finally go back to.
    pool: PgPool,
    /// Connections whose last transaction ended cleanly, newest last.
    idle: Mutex<Vec<Loan>>,
    /// At most this many are kept: the rest of the pool stays free for other paths.
    max: usize,
}

impl Warm {
    /// A cache keeping at most half of `pool`'s connections, and never more than the pool
    /// less [`HEADROOM`] (see the module's doc).
    pub fn new(pool: PgPool) -> Warm {
        let max = capacity(pool.options().get_max_connections() as usize);
        Warm {
            pool,
            idle: Mutex::new(Vec::with_capacity(max)),
            max,
        }
    }

    /// How many connections it keeps at most.
    pub fn capacity(&self) -> usize {
        self.max
    }

    /// A kept connection if there is one, else one from the pool.
    pub async fn take(&self) -> Result<Loan, sqlx::Error> {
        let kept = self.idle.lock().expect("warm cache lock").pop();
        match kept {
            Some(loan) => Ok(loan),
            None => Ok(Loan {
                conn: self.pool.acquire().await?,
                since: Instant::now(),
            }),
        }
    }

    /// Keeps `loan` for the next transaction, or lets it go back to the pool when it is old,
    /// the cache is full, or keeping it would leave the pool less than [`HEADROOM`]. Call only
    /// after its transaction committed or rolled back.
    pub fn give_back(&self, loan: Loan) {
        if loan.since.elapsed() >= KEEP_FOR || self.pool.is_closed() || !self.room_to_keep() {
            return;
        }
        let mut idle = self.idle.lock().expect("warm cache lock");
        if idle.len() < self.max {
            idle.push(loan);
        }
    }

    /// Whether the pool could still hand out [`HEADROOM`] connections at once with one more
    /// kept here: its idle connections and the ones it may still open.
    fn room_to_keep(&self) -> bool {
        let max = self.pool.options().get_max_connections() as usize;
        let open = self.pool.size() as usize;
        let free = self.pool.num_idle() + max.saturating_sub(open);
        free >= HEADROOM
    }
}

/// The most connections a [`Warm`] over a pool of `pool_max` keeps.
fn capacity(pool_max: usize) -> usize {
    (pool_max / 2).min(pool_max.saturating_sub(HEADROOM))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPoolOptions;

    #[test]
    fn the_cache_leaves_the_headroom_to_the_rest_of_the_pool() {
        assert_eq!(capacity(1), 0);
        assert_eq!(capacity(2), 0);
        assert_eq!(capacity(3), 1);
        assert_eq!(capacity(4), 2);
        assert_eq!(capacity(10), 5);
        for pool in 1..64 {
            assert!(capacity(pool) + HEADROOM <= pool.max(HEADROOM));
        }
    }

    /// A pool of four on the test server (as the test kit's superuser); it needs no tables.
    async fn pool_of_four() -> PgPool {
        PgPoolOptions::new()
            .max_connections(4)
            .connect_with(crate::testing::admin_connect_options())
            .await
            .expect("connecting to PostgreSQL; is the stack up? (scripts/stack up)")
    }

    /// While other paths hold half the pool, connections given back are not kept: the pool
    /// gets them back, and another path's request finds one at once.
    #[tokio::test]
    async fn under_pressure_connections_go_back_to_the_pool() {
        let pool = pool_of_four().await;
        let warm = Warm::new(pool.clone());
        let others = [pool.acquire().await.unwrap(), pool.acquire().await.unwrap()];
        let loans = [warm.take().await.unwrap(), warm.take().await.unwrap()];
        for loan in loans {
            warm.give_back(loan);
        }
        // A connection goes back to the pool in a task of its own (sqlx tests it first).
        let deadline = Instant::now() + Duration::from_secs(30);
        let found = loop {
            if let Some(conn) = pool.try_acquire() {
                break conn;
            }
            assert!(
                Instant::now() < deadline,
                "the pool got no connection back: {} kept warm",
                warm.idle.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert!(warm.idle.lock().unwrap().is_empty());
        drop((found, others));
    }

    /// With the pool to itself, the cache keeps what it may, and hands it out again.
    #[tokio::test]
    async fn with_room_to_spare_connections_stay_warm() {
        let pool = pool_of_four().await;
        let warm = Warm::new(pool.clone());
        let loan = warm.take().await.unwrap();
        warm.give_back(loan);
        assert_eq!(warm.idle.lock().unwrap().len(), 1);
        let again = warm.take().await.unwrap();
        assert!(warm.idle.lock().unwrap().is_empty());
        warm.give_back(again);
        assert_eq!(warm.capacity(), 2);
    }
}
