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

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

/// How long a connection may stay out of the pool before it goes back to be tested.
pub const KEEP_FOR: Duration = Duration::from_secs(30);

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
    /// A cache keeping at most half of `pool`'s connections (at least one).
    pub fn new(pool: PgPool) -> Warm {
        let max = (pool.options().get_max_connections() as usize / 2).max(1);
        Warm {
            pool,
            idle: Mutex::new(Vec::with_capacity(max)),
            max,
        }
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

    /// Keeps `loan` for the next transaction, or lets it go back to the pool when it is old
    /// or the cache is full. Call only after its transaction committed or rolled back.
    pub fn give_back(&self, loan: Loan) {
        if loan.since.elapsed() >= KEEP_FOR || self.pool.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().expect("warm cache lock");
        if idle.len() < self.max {
            idle.push(loan);
        }
    }
}
