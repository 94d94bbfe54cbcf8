//! Fault mode: refuse a chosen fraction of events and requests, the way an overloaded or
//! failing service would, so that clients can test their retries.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::event::ErrorCode;

/// What fault mode should do; all fractions 0 turn it off.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultConfig {
    /// Fraction of otherwise valid events answered in `failed` (Throttling or InternalFailure).
    pub events: f64,
    /// Fraction of requests answered with 500, 503 or a dropped connection.
    pub requests: f64,
    /// Seed of the generator; without one every run differs.
    pub seed: Option<u64>,
}

/// How a faulted request is answered; the three are equally likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    /// 500 InternalServerException.
    InternalError,
    /// 503 ServiceUnavailableException.
    Unavailable,
    /// The connection is closed without a response.
    Drop,
}

/// Draws the faults. One generator behind a lock: with a seed and one client sending in
/// order, the same requests and events are faulted on every run.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    rng: Mutex<StdRng>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Faults {
            config,
            rng: Mutex::new(rng),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.events > 0.0 || self.config.requests > 0.0
    }

    fn draw<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        // A panic while the lock is held cannot leave the generator in a bad state.
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
    }

    /// Whether this request fails as a whole, and how.
    pub fn request(&self) -> Option<RequestFault> {
        if self.config.requests <= 0.0 {
            return None;
        }
        self.draw(|rng| {
            if !rng.random_bool(self.config.requests.min(1.0)) {
                return None;
            }
            Some(match rng.random_range(0..3) {
                0 => RequestFault::InternalError,
                1 => RequestFault::Unavailable,
                _ => RequestFault::Drop,
            })
        })
    }

    /// For each of `n` events, the error code it is refused with, if it is faulted.
    pub fn events(&self, n: usize) -> Vec<Option<ErrorCode>> {
        if self.config.events <= 0.0 {
            return vec![None; n];
        }
        self.draw(|rng| {
            (0..n)
                .map(|_| {
                    rng.random_bool(self.config.events.min(1.0)).then(|| {
                        if rng.random_bool(0.5) {
                            ErrorCode::Throttling
                        } else {
                            ErrorCode::InternalFailure
                        }
                    })
                })
                .collect()
        })
    }
}

/// Message of a faulted event.
pub fn event_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Throttling => "Rate exceeded (fault mode)",
        _ => "The event could not be ingested because of an internal error (fault mode)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default() {
        let f = Faults::new(FaultConfig::default());
        assert!(!f.enabled());
        assert_eq!(f.request(), None);
        assert!(f.events(5).iter().all(Option::is_none));
    }

    #[test]
    fn seeded_faults_repeat_and_follow_the_fractions() {
        let config = FaultConfig {
            events: 0.3,
            requests: 0.2,
            seed: Some(7),
        };
        let (a, b) = (Faults::new(config), Faults::new(config));
        let ea = a.events(10_000);
        assert_eq!(ea, b.events(10_000));
        let faulted = ea.iter().filter(|e| e.is_some()).count();
        assert!((2_500..3_500).contains(&faulted), "{faulted}");
        assert!(ea.contains(&Some(ErrorCode::Throttling)));
        assert!(ea.contains(&Some(ErrorCode::InternalFailure)));
        let requests: Vec<_> = (0..3_000).map(|_| a.request()).collect();
        let failed = requests.iter().filter(|r| r.is_some()).count();
        assert!((450..750).contains(&failed), "{failed}");
        for kind in [
            RequestFault::InternalError,
            RequestFault::Unavailable,
            RequestFault::Drop,
        ] {
            assert!(requests.contains(&Some(kind)));
        }
    }
}
