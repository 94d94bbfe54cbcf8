//! `--max-rps`: a token bucket that spaces PutAuditEvents calls (retries included).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket holding at most [`RateLimiter::BURST`] token, refilled at `rate` tokens a
/// second. With a bucket of one, no second ever sees more than `rate` calls start, which is
/// how Lake's per-channel quota counts.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// When the next token is (or was) available.
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// Tokens the bucket holds when full.
    pub const BURST: u32 = 1;

    /// A limiter of `rate` calls a second; `rate` must be positive.
    pub fn new(rate: f64) -> RateLimiter {
        assert!(rate > 0.0, "a rate limit is positive");
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(None),
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let at = self.reserve(Instant::now());
        tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
    }

    /// Takes the next token and says when it may be used, given that it is `now`.
    pub fn reserve(&self, now: Instant) -> Instant {
        let mut next = self
            .next
            .lock()
            .expect("the rate limiter's lock is never poisoned");
        // A bucket that filled up while idle holds BURST tokens, no more.
        let earliest = now
            .checked_sub(self.interval * (Self::BURST - 1))
            .unwrap_or(now);
        let at = next.map_or(earliest, |n| n.max(earliest));
        *next = Some(at + self.interval);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_calls_at_the_rate() {
        let limiter = RateLimiter::new(100.0);
        let start = Instant::now();
        // 201 callers arriving at once get slots 10 ms apart.
        let slots: Vec<Instant> = (0..201).map(|_| limiter.reserve(start)).collect();
        assert_eq!(slots[0], start);
        assert_eq!(slots[200] - start, Duration::from_secs(2));
        assert!(
            slots
                .windows(2)
                .all(|w| w[1] - w[0] == Duration::from_millis(10))
        );
    }

    #[test]
    fn an_idle_bucket_does_not_save_up_a_burst() {
        let limiter = RateLimiter::new(10.0);
        let start = Instant::now();
        limiter.reserve(start);
        let later = start + Duration::from_secs(5);
        let slots: Vec<Instant> = (0..3).map(|_| limiter.reserve(later)).collect();
        assert_eq!(slots[0], later);
        assert_eq!(slots[2] - later, Duration::from_millis(200));
    }
}
