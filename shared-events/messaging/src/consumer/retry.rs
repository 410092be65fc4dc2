//! Bounded exponential backoff for transient handler errors, and the capped backoff between
//! the endless retries of an unavailable dependency.

use std::time::Duration;

/// How a failed handler call is retried: how many transient failures a message may have, and
/// the pause between calls. Transient failures and an unavailable dependency are counted apart:
/// each kind's backoff grows with its own count, and only transient failures spend the attempts.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Transient failures a message may have; the last of them dead-letters it. Calls that
    /// found a dependency unavailable do not count: an outage is waited out, however long.
    pub max_attempts: u32,
    /// The pause after the first failed attempt; each later one doubles it.
    pub initial_backoff: Duration,
    /// The longest pause; also the pause between the endless retries of an unavailable
    /// dependency.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// About 30 s of retries in all: enough for a late upstream event or a store restart.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 12,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The pause after failure number `attempt` (1-based) of one kind: doubling from the initial
    /// backoff up to the cap, with up to 20% jitter so that retrying consumers spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let base = exp.min(self.max_backoff);
        let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 5000.0;
        base.mul_f64(1.0 - jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let p = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        for (attempt, nominal) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            let b = p.backoff(attempt).as_millis() as u64;
            assert!(
                b <= nominal && b >= nominal * 8 / 10,
                "attempt {attempt}: {b}ms"
            );
        }
    }

    #[test]
    fn default_retries_for_a_bounded_time() {
        let p = RetryPolicy::default();
        let total: Duration = (1..p.max_attempts).map(|a| p.backoff(a)).sum();
        assert!(
            total > Duration::from_secs(15) && total < Duration::from_secs(40),
            "{total:?}"
        );
    }
}
