//! Bounded exponential backoff for transient handler errors, and the capped backoff between
//! the endless retries of an unavailable dependency; how long a message that keeps failing is
//! retried for at least, for a service whose own wait must end before it is dead-lettered.

use std::time::Duration;

/// The most a pause is shortened by, as a fraction of its nominal length: its jitter.
pub const MAX_JITTER: f64 = 0.2;

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
    /// The pause after failure number `attempt` (1-based) of one kind, before jitter: doubling
    /// from the initial backoff up to the cap.
    pub fn nominal_backoff(&self, attempt: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max_backoff)
    }

    /// The pause after failure number `attempt` (1-based) of one kind: the
    /// [nominal](Self::nominal_backoff) one, shortened by up to [`MAX_JITTER`] so that retrying
    /// consumers spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0 * MAX_JITTER;
        self.nominal_backoff(attempt).mul_f64(1.0 - jitter)
    }

    /// The pause after transient failure number `failures` (1-based) of a message, before it
    /// is called again; `None` once the failures have used up the attempts, when it is
    /// dead-lettered.
    pub fn after_transient(&self, failures: u32) -> Option<Duration> {
        (failures < self.max_attempts).then(|| self.backoff(failures))
    }

    /// The shortest time, however the jitter falls, from the first transient failure of a
    /// message that keeps failing so to its last, which dead-letters it: the pauses
    /// [`after_transient`](Self::after_transient) gives between them, each as short as the
    /// jitter can make it. A wait that a handler keeps up by failing transiently must end
    /// within this, or the message is dead-lettered first.
    pub fn shortest_retry_span(&self) -> Duration {
        (1..self.max_attempts).map(|a| self.shortest_pause(a)).sum()
    }

    /// This policy with as many more attempts as it takes for its
    /// [shortest retry span](Self::shortest_retry_span) to reach `span`.
    ///
    /// # Panics
    /// If the policy never pauses (a zero cap), so that no number of attempts would do.
    pub fn retrying_for_at_least(mut self, span: Duration) -> RetryPolicy {
        let mut reached = self.shortest_retry_span();
        while reached < span {
            let pause = self.shortest_pause(self.max_attempts);
            assert!(
                !pause.is_zero(),
                "a policy that never pauses is not retried for {span:?}: {self:?}"
            );
            reached += pause;
            self.max_attempts += 1;
        }
        self
    }

    /// The shortest pause [`backoff`](Self::backoff) gives after failure number `attempt`.
    fn shortest_pause(&self, attempt: u32) -> Duration {
        self.nominal_backoff(attempt).mul_f64(1.0 - MAX_JITTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        }
    }

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let p = policy();
        for (attempt, nominal) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            assert_eq!(p.nominal_backoff(attempt), Duration::from_millis(nominal));
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

    /// The pauses a message that keeps failing transiently gets, until it is dead-lettered.
    fn pauses_until_dead_lettered(p: &RetryPolicy) -> Vec<Duration> {
        (1..)
            .map_while(|failures| p.after_transient(failures))
            .collect()
    }

    #[test]
    fn the_last_attempt_dead_letters_and_the_pauses_before_it_never_add_up_to_less_than_the_span() {
        let p = policy();
        for _ in 0..200 {
            let pauses = pauses_until_dead_lettered(&p);
            assert_eq!(pauses.len(), p.max_attempts as usize - 1);
            let total: Duration = pauses.iter().sum();
            assert!(total >= p.shortest_retry_span(), "{total:?}");
        }
    }

    #[test]
    fn more_attempts_make_the_span_reach_what_is_asked_and_no_more_than_needed() {
        for secs in [0, 1, 7, 30, 300] {
            let span = Duration::from_secs(secs);
            let p = policy().retrying_for_at_least(span);
            assert!(p.shortest_retry_span() >= span, "{secs}s: {p:?}");
            assert!(p.max_attempts >= policy().max_attempts);
            let one_fewer = RetryPolicy {
                max_attempts: p.max_attempts - 1,
                ..p
            };
            assert!(
                p.max_attempts == policy().max_attempts || one_fewer.shortest_retry_span() < span,
                "{secs}s: {p:?}"
            );
        }
    }
}
