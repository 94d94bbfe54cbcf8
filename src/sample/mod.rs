//! A deterministic generator of realistic CloudTrail Lake integration events (NDJSON of eventData).
//!
//! Six sources share one cast of principals: an identity provider (Okta), a code host
//! (GitHub audit log streaming), a feature-flag service (LaunchDarkly-like), GCP audit logs,
//! EKS pod logs (shaped as the aws-samples integrations map them) and an in-house
//! back-office app. Activity follows a daily and weekly rhythm, a few principals do most of
//! the work, about 5% of events are errors, and every event passes PutAuditEvents validation.

mod app;
mod clock;
mod eks;
mod flags;
mod gcp;
mod github;
mod json;
mod okta;
mod people;
mod rng;

#[cfg(test)]
mod tests;

use std::io::{self, BufWriter, Write};

use chrono::{DateTime, Utc};

use clock::{Clock, Frac, Tick, write_iso};
use json::JsonLine;
use people::{Person, Place, Pool};
use rng::{Rng, mix64, write_uuid};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleConfig {
    /// How many events (lines) to write.
    pub events: u64,
    /// The same seed gives byte-identical output.
    pub seed: u64,
    /// Written as every event's recipientAccountId: the account that owns the channel.
    pub recipient_account_id: String,
    /// The first moment events may carry.
    pub start: DateTime<Utc>,
    /// Events spread over this many days from `start`.
    pub days: u32,
}

/// 2026-01-01T00:00:00Z.
const DEFAULT_START: i64 = 1_767_225_600;

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            events: 5000,
            seed: 42,
            recipient_account_id: "123456789012".to_owned(),
            start: DateTime::from_timestamp(DEFAULT_START, 0).unwrap_or_default(),
            days: 180,
        }
    }
}

/// Writes `config.events` eventData objects as NDJSON, in increasing time order (up to a
/// few seconds of jitter). Fails only on a bad configuration or a failed write.
pub fn generate(config: &SampleConfig, out: &mut impl Write) -> io::Result<()> {
    check(config)?;
    let pool = Pool::new();
    let mut clock = Clock::new(config.start.timestamp(), config.days, config.events);
    let mut rng = Rng::new(config.seed);
    let salt = mix64(config.seed ^ 0x5EED_0F01_D5A1);
    let mut line = JsonLine::new();
    let mut ip = String::with_capacity(64);
    let mut scratch = Vec::with_capacity(1024);
    let mut out = BufWriter::with_capacity(1 << 20, out);
    for seq in 0..config.events {
        let tick = clock.tick(seq, &mut rng);
        let mix = if tick.business {
            &WORKING_HOURS
        } else {
            &OFF_HOURS
        };
        let source = *rng.weighted(mix);
        line.clear();
        let mut ev = Ev {
            rng: &mut rng,
            j: &mut line,
            pool: &pool,
            ip: &mut ip,
            scratch: &mut scratch,
            account: &config.recipient_account_id,
            tick,
            unique: mix64(seq ^ salt),
        };
        source(&mut ev);
        line.buf.push(b'\n');
        out.write_all(&line.buf)?;
    }
    out.flush()
}

fn check(config: &SampleConfig) -> io::Result<()> {
    let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    let account = &config.recipient_account_id;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return invalid(format!("recipient account ID {account:?} is not 12 digits"));
    }
    if config.days == 0 {
        return invalid("days must be at least 1".to_owned());
    }
    let start = config.start.timestamp();
    let end = start + i64::from(config.days) * 86_400 - 1;
    let year = |secs| clock::civil(secs).0;
    if !(1..=9999).contains(&year(start)) || !(1..=9999).contains(&year(end)) {
        return invalid(format!(
            "{} days from {} leave the years 1 to 9999",
            config.days, config.start
        ));
    }
    Ok(())
}

type Source = fn(&mut Ev<'_>);

/// Share of each source (per mille) in working hours and outside them, when people
/// sleep and machines keep logging.
const WORKING_HOURS: [(Source, u32); 7] = [
    (okta::login, 180),
    (okta::spray, 30),
    (github::event, 330),
    (gcp::event, 70),
    (eks::event, 110),
    (flags::event, 50),
    (app::event, 230),
];
const OFF_HOURS: [(Source, u32); 7] = [
    (okta::login, 80),
    (okta::spray, 75),
    (github::event, 270),
    (gcp::event, 80),
    (eks::event, 260),
    (flags::event, 30),
    (app::event, 205),
];

/// One event being written, with what every source needs.
pub(crate) struct Ev<'a> {
    rng: &'a mut Rng,
    j: &'a mut JsonLine,
    pool: &'a Pool,
    /// The source address chosen for this event, once [`Ev::from`] has run.
    ip: &'a mut String,
    /// A reusable buffer; take it with `std::mem::take` and put it back.
    scratch: &'a mut Vec<u8>,
    account: &'a str,
    tick: Tick,
    /// Distinct for every event of a run: the base of the UID.
    unique: u64,
}

impl Ev<'_> {
    fn event_time(&mut self) {
        let secs = self.tick.secs;
        self.j
            .str_with("eventTime", |b| write_iso(b, secs, Frac::None, 0));
    }

    /// A UUID built on this event's unique bits: use it once per event, for the UID.
    fn uuid(&mut self, key: &str) {
        let (unique, random) = (self.unique, self.rng.next_u64());
        self.j.str_with(key, |b| write_uuid(b, unique, random));
    }

    fn recipient(&mut self) {
        self.j.str("recipientAccountId", self.account);
    }

    fn source_ip(&mut self) {
        self.j.str("sourceIPAddress", self.ip.as_str());
    }

    /// Chooses where `p` sends this request from (see [`Ev::source_ip`]).
    fn from(&mut self, p: &Person) -> &'static Place {
        people::choose_ip(self.rng, p, self.tick.business, self.ip)
    }

    fn error(&mut self, code: &str, message: &str) {
        self.j.str("errorCode", code);
        self.j.str("errorMessage", message);
    }
}
