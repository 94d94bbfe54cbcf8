//! Event times: a daily and weekly rhythm, increasing through a run; the time formats sources use.

use std::io::Write as _;

use super::rng::Rng;

/// Relative activity per UTC hour: the US and European working days overlap from 13 to 17.
const HOUR_OF_DAY: [f64; 24] = [
    0.35, 0.30, 0.25, 0.22, 0.22, 0.25, 0.35, 0.55, 0.80, 0.95, 1.00, 0.95, //
    0.90, 1.00, 1.00, 1.00, 0.95, 0.90, 0.85, 0.75, 0.65, 0.55, 0.45, 0.40,
];

/// Saturday and Sunday see a fraction of weekday activity.
const WEEKEND: f64 = 0.3;

/// Hands out event times so that event `i` of `n` falls at the `i/n` quantile of the
/// activity curve: times increase with `i` up to a little jitter.
pub(crate) struct Clock {
    start: i64,
    end: i64,
    /// Cumulative activity at the end of each hour, normalised to end at 1.
    cdf: Vec<f64>,
    events: f64,
    hour: usize,
}

/// The time of one event and whether it falls in working hours.
#[derive(Clone, Copy)]
pub(crate) struct Tick {
    pub(crate) secs: i64,
    pub(crate) nanos: u32,
    pub(crate) business: bool,
    /// Whole days since the configured start.
    pub(crate) day: u32,
}

impl Clock {
    pub(crate) fn new(start: i64, days: u32, events: u64) -> Self {
        let hours = days as usize * 24;
        let mut total = 0.0;
        let mut cdf = Vec::with_capacity(hours);
        for h in 0..hours {
            let secs = start + h as i64 * 3600;
            // Usage grows by a third over the period, as a product being rolled out would.
            let trend = 1.0 + 0.33 * h as f64 / hours as f64;
            total += activity(secs) * trend;
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Clock {
            start,
            end: start + hours as i64 * 3600,
            cdf,
            events: events as f64,
            hour: 0,
        }
    }

    /// The time of event `seq`; must be called with increasing `seq`.
    pub(crate) fn tick(&mut self, seq: u64, rng: &mut Rng) -> Tick {
        let q = (seq as f64 + rng.f64()) / self.events;
        while self.hour + 1 < self.cdf.len() && self.cdf[self.hour] <= q {
            self.hour += 1;
        }
        let before = if self.hour == 0 {
            0.0
        } else {
            self.cdf[self.hour - 1]
        };
        let width = self.cdf[self.hour] - before;
        let frac = if width > 0.0 {
            ((q - before) / width).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let jitter = rng.below(61) as i64 - 30;
        let secs = self.start + self.hour as i64 * 3600 + (frac * 3600.0) as i64 + jitter;
        let secs = secs.clamp(self.start, self.end - 1);
        Tick {
            secs,
            nanos: rng.below(1_000_000_000) as u32,
            business: activity(secs) >= 0.8,
            day: ((secs - self.start) / 86_400) as u32,
        }
    }
}

/// Activity at a moment: hour-of-day curve, damped at weekends.
fn activity(secs: i64) -> f64 {
    let hour = secs.rem_euclid(86_400) / 3600;
    let weekday = (secs.div_euclid(86_400) + 4).rem_euclid(7); // 0 = Sunday; 1970-01-01 was a Thursday
    let weekend = if weekday == 0 || weekday == 6 {
        WEEKEND
    } else {
        1.0
    };
    HOUR_OF_DAY[hour as usize] * weekend
}

/// Calendar fields of a Unix time in UTC: (year, month, day, hour, minute, second).
pub(crate) fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem / 60 % 60, rem % 60)
}

/// `yyyy-MM-ddTHH:mm:ss` followed by `frac` (e.g. `.123`) and `Z`.
pub(crate) fn write_iso(buf: &mut Vec<u8>, secs: i64, frac: Frac, nanos: u32) {
    let (y, mo, d, h, mi, s) = civil(secs);
    let _ = write!(buf, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    let _ = match frac {
        Frac::None => Ok(()),
        Frac::Millis => write!(buf, ".{:03}", nanos / 1_000_000),
        Frac::Nanos => write!(buf, ".{nanos:09}"),
    };
    buf.push(b'Z');
}

#[derive(Clone, Copy)]
pub(crate) enum Frac {
    None,
    Millis,
    Nanos,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `01/Jan/2026:13:45:12 +0000`, the nginx access-log time.
pub(crate) fn write_clf(buf: &mut Vec<u8>, secs: i64) {
    let (y, mo, d, h, mi, s) = civil(secs);
    let month = MONTHS[mo as usize - 1];
    let _ = write!(buf, "{d:02}/{month}/{y}:{h:02}:{mi:02}:{s:02} +0000");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_matches_chrono() {
        for secs in [
            0,
            951_782_400,
            1_767_225_600,
            1_782_864_000 + 12_345,
            4_102_444_799,
        ] {
            let dt = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            let mut buf = Vec::new();
            write_iso(&mut buf, secs, Frac::None, 0);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }

    #[test]
    fn ticks_increase_and_stay_in_range() {
        let start = 1_767_225_600;
        let mut clock = Clock::new(start, 7, 1000);
        let mut rng = Rng::new(3);
        let times: Vec<i64> = (0..1000).map(|i| clock.tick(i, &mut rng).secs).collect();
        assert!(
            times
                .iter()
                .all(|&t| (start..start + 7 * 86_400).contains(&t))
        );
        // Increasing up to the jitter.
        assert!(times.windows(2).all(|w| w[1] >= w[0] - 60));
        // 2026-01-03 and 01-04 are a weekend: quieter than the Thursday and Friday before.
        let day = |d: i64| times.iter().filter(|&&t| (t - start) / 86_400 == d).count();
        assert!(
            day(2) + day(3) < day(0) + day(1),
            "{} {}",
            day(2) + day(3),
            day(0) + day(1)
        );
    }
}
