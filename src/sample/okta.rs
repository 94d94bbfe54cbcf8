//! Okta System Log events as the aws-samples Okta integration maps them, and password spraying.

use std::fmt::Write as _;

use super::Ev;
use super::people::{Person, Place};

pub(crate) const SOURCE: &str = "okta.system-log-events";

/// An Okta event type, the request URI the integration takes as eventName, and how often it fails.
struct Kind {
    event_type: &'static str,
    uri: &'static str,
    fail: f64,
}

const fn kind(event_type: &'static str, uri: &'static str, fail: f64) -> Kind {
    Kind {
        event_type,
        uri,
        fail,
    }
}

const KINDS: [(Kind, u32); 8] = [
    (kind("user.session.start", "/idp/idx/identify", 0.09), 26),
    (
        kind(
            "user.authentication.auth_via_mfa",
            "/idp/idx/challenge/answer",
            0.05,
        ),
        22,
    ),
    (kind("user.authentication.sso", "/app/sso/saml", 0.015), 30),
    (
        kind("policy.evaluate_sign_on", "/idp/idx/introspect", 0.03),
        8,
    ),
    (
        kind(
            "app.oauth2.as.token.grant",
            "/oauth2/default/v1/token",
            0.02,
        ),
        8,
    ),
    (kind("user.session.end", "/login/signout", 0.0), 4),
    (
        kind(
            "user.mfa.factor.activate",
            "/idp/myaccount/authenticators",
            0.0,
        ),
        1,
    ),
    (
        kind(
            "user.account.update_password",
            "/idp/myaccount/password",
            0.06,
        ),
        1,
    ),
];

/// SSO targets: (Okta app name, display name).
const APPS: [(&str, &str); 7] = [
    ("amazon_aws", "AWS IAM Identity Center"),
    ("github_enterprise_cloud", "GitHub Enterprise Cloud"),
    ("google", "Google Workspace"),
    ("slack", "Slack"),
    ("launchdarkly", "LaunchDarkly"),
    ("salesforce", "Salesforce.com"),
    ("backoffice", "Acme Backoffice"),
];

const FAILURES: [((&str, &str), u32); 4] = [
    (("FAILURE", "INVALID_CREDENTIALS"), 60),
    (("FAILURE", "VERIFICATION_ERROR"), 20),
    (("DENY", "Sign-on policy evaluation resulted in DENY"), 12),
    (("FAILURE", "LOCKED_OUT"), 8),
];

/// Password spraying: a few addresses try many accounts, some of which do not exist.
/// Documentation ranges, so no real network is cast as an attacker.
const ATTACKERS: [(&str, &str, &str, &str); 4] = [
    ("192.0.2.47", "Frankfurt am Main", "DE", "Germany"),
    ("192.0.2.122", "Amsterdam", "NL", "Netherlands"),
    ("2001:db8:bad:5::41", "Bucharest", "RO", "Romania"),
    ("192.0.2.10", "Hong Kong", "HK", "Hong Kong"),
];
const GUESSED: [&str; 5] = ["admin", "root", "test", "administrator", "it-support"];
const SCRIPT_AGENTS: [&str; 3] = [
    "python-requests/2.31.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "okhttp/4.12.0",
];

/// A person signing in, verifying a factor, or opening an app.
pub(crate) fn login(ev: &mut Ev<'_>) {
    let pool = ev.pool;
    let p = pool.anyone(ev.rng);
    let place = ev.from(p);
    let k = ev.rng.weighted(&KINDS);
    let failure = ev.rng.chance(k.fail).then(|| *ev.rng.weighted(&FAILURES));
    let app = ev.rng.pick(&APPS);
    let ua = super::people::BROWSERS[p.browser];
    write(ev, Actor::Known(p), ua, k, app, failure, place);
}

/// One attempt of a password-spraying run. Campaigns run two weeks out of every six, one
/// attacker at a time; between them the share of events set aside for spraying is ordinary
/// sign-ins.
pub(crate) fn spray(ev: &mut Ev<'_>) {
    let day = ev.tick.day;
    if !(day / 14).is_multiple_of(3) {
        return login(ev);
    }
    let pool = ev.pool;
    let (ip, city, country_code, country) = ATTACKERS[(day / 42) as usize % ATTACKERS.len()];
    ev.ip.clear();
    if ev.rng.chance(0.1) {
        let host = ev.rng.range(128, 254); // a fresh proxy
        let _ = write!(ev.ip, "192.0.2.{host}");
    } else {
        ev.ip.push_str(ip);
    }
    let place = Place {
        city,
        country_code,
        country,
        asn: 0,
        as_org: "bulletproof hosting",
    };
    let actor = if ev.rng.chance(0.3) {
        Actor::Unknown(GUESSED[ev.rng.index(GUESSED.len())])
    } else {
        // Sprayers go through a leaked address list, not the busiest accounts.
        Actor::Known(&pool.people[ev.rng.index(pool.people.len())])
    };
    let ua = *ev.rng.pick(&SCRIPT_AGENTS);
    let failure = if ev.rng.chance(0.9) {
        ("FAILURE", "INVALID_CREDENTIALS")
    } else {
        ("FAILURE", "LOCKED_OUT")
    };
    write(ev, actor, ua, &KINDS[0].0, &APPS[0], Some(failure), &place);
}

enum Actor<'p> {
    Known(&'p Person),
    /// A user name that matches no account: Okta logs the id as `unknown`.
    Unknown(&'static str),
}

fn write(
    ev: &mut Ev<'_>,
    actor: Actor<'_>,
    ua: &str,
    k: &Kind,
    app: &(&str, &str),
    failure: Option<(&str, &str)>,
    place: &Place,
) {
    let j = &mut *ev.j;
    j.begin();
    j.str("version", "0");
    j.obj("userIdentity");
    j.str("type", "User");
    match actor {
        Actor::Known(p) => {
            j.str("principalId", &p.okta_id);
            j.obj("details");
            j.str("alternateId", &p.email);
            j.str("displayName", &p.display_name);
        }
        Actor::Unknown(name) => {
            j.str("principalId", "unknown");
            j.obj("details");
            j.strf(
                "alternateId",
                format_args!("{name}@{}", super::people::EMAIL_DOMAIN),
            );
            j.str("displayName", "unknown");
        }
    }
    j.end();
    j.end();
    j.str("userAgent", ua);
    j.str("eventSource", SOURCE);
    if k.event_type == "user.authentication.sso" {
        j.strf("eventName", format_args!("/app/{}/sso/saml", app.0));
    } else {
        j.str("eventName", k.uri);
    }
    ev.event_time();
    ev.uuid("UID");
    let j = &mut *ev.j;
    let result = failure.map_or("SUCCESS", |f| f.0);
    j.obj("responseElements");
    j.str("outcome.reason", result);
    j.end();
    if let Some((code, message)) = failure {
        j.str("errorCode", code);
        j.str("errorMessage", message);
    }
    ev.source_ip();
    ev.recipient();
    let j = &mut *ev.j;
    j.obj("additionalEventData");
    j.str("eventType", k.event_type);
    j.str("severity", if failure.is_some() { "WARN" } else { "INFO" });
    j.obj("outcome");
    j.str("result", result);
    match failure {
        Some((_, reason)) => j.str("reason", reason),
        None => j.null("reason"),
    }
    j.end();
    j.obj("client");
    j.str(
        "device",
        if ua.contains("iPhone") {
            "Mobile"
        } else {
            "Computer"
        },
    );

    j.obj("geographicalContext");
    j.str("city", place.city);
    j.str("country", place.country);
    j.end();
    j.end();
    j.obj("securityContext");
    j.str("asOrg", place.as_org);
    j.bool("isProxy", place.asn == 0);
    j.end();
    if k.event_type == "user.authentication.sso" {
        j.arr("target");
        j.begin();
        j.str("type", "AppInstance");
        j.str("alternateId", app.1);
        j.end();
        j.end_arr();
    }
    j.end();
    j.end();
}
