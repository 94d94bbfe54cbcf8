//! Feature-flag service audit events (LaunchDarkly-like): toggles, targeting, rollouts, approvals.

use std::fmt::Write as _;
use std::io::Write as _;

use super::Ev;
use super::rng::{HEX, write_chars};

pub(crate) const SOURCE: &str = "launchdarkly.audit-log";

const FLAGS: [&str; 12] = [
    "new-checkout-flow",
    "search-v2",
    "payments-3ds-enforcement",
    "recommendations-ml",
    "kill-switch-inventory-sync",
    "dark-mode",
    "beta-dashboard",
    "rate-limit-strict",
    "free-shipping-banner",
    "mobile-onboarding-v3",
    "pricing-experiment-q2",
    "sso-only-login",
];
const ENVIRONMENTS: [(&str, u32); 3] = [("production", 35), ("staging", 40), ("test", 25)];

/// Actions with the verb the audit log shows and their share (per mille).
const ACTIONS: [((&str, &str), u32); 10] = [
    (("updateOn", "turned on the flag"), 240),
    (("updateRules", "changed the targeting rules of"), 200),
    (("updateTargets", "changed the individual targets of"), 150),
    (("updateFallthrough", "changed the default rule of"), 110),
    (
        ("createApprovalRequest", "requested approval for changes to"),
        80,
    ),
    (("reviewApprovalRequest", "approved changes to"), 80),
    (("createFlag", "created the flag"), 50),
    (("updateOffVariation", "changed the off variation of"), 40),
    (("updateGlobalArchived", "archived the flag"), 30),
    (("deleteFlag", "deleted the flag"), 20),
];
/// API access tokens: (name, id, user agent).
const TOKENS: [(&str, &str, &str); 2] = [
    (
        "terraform-launchdarkly",
        "66f1c0a9e4b2d83a17c5f902",
        "launchdarkly-terraform-provider/2.21.0",
    ),
    (
        "ci-release-bot",
        "65a3d7e21b9c4f08de6b3a11",
        "acme-release/1.9.4 (+https://ci.acme.example)",
    ),
];
const COMMENTS: [&str; 5] = [
    "ramping up after a clean canary",
    "INC-2291 mitigation",
    "EU launch",
    "rollback, error rate above SLO",
    "cleanup of a finished experiment",
];
const COUNTRIES: [&str; 6] = ["DE", "AT", "CH", "FR", "US", "IN"];
const ERRORS: [((&str, &str), u32); 3] = [
    (
        (
            "403",
            "Forbidden: your role does not allow this action in this environment",
        ),
        50,
    ),
    (
        (
            "409",
            "Conflict: the flag was modified by another request, reload and retry",
        ),
        30,
    ),
    (
        (
            "405",
            "Approval required: changes to this environment need an approved request",
        ),
        20,
    ),
];

pub(crate) fn event(ev: &mut Ev<'_>) {
    let pool = ev.pool;
    let p = pool.engineer(ev.rng);
    let token = ev.rng.chance(0.15).then(|| ev.rng.pick(&TOKENS));
    match token {
        // Tokens are used from CI, which leaves GCP through the same Cloud NAT as the
        // pipelines' service accounts.
        Some(_) => {
            let host = ev.rng.range(1, 4);
            ev.ip.clear();
            let _ = write!(ev.ip, "34.72.18.{host}");
        }
        None => {
            ev.from(p);
        }
    }
    let flag = *ev.rng.pick(&FLAGS);
    let env = *ev.rng.weighted(&ENVIRONMENTS);
    let (action, verb) = *ev.rng.weighted(&ACTIONS);
    let on = ev.rng.chance(0.6);
    let verb = if action == "updateOn" && !on {
        "turned off the flag"
    } else {
        verb
    };
    let project = if flag.starts_with("mobile") {
        "mobile"
    } else {
        "default"
    };
    let failure = ev.rng.chance(0.06).then(|| *ev.rng.weighted(&ERRORS));

    let j = &mut *ev.j;
    j.begin();
    j.str("version", "1");
    j.obj("userIdentity");
    match token {
        Some((name, id, _)) => {
            j.str("type", "ServiceToken");
            j.str("principalId", id);
            j.obj("details");
            j.str("tokenName", name);
            j.str("tokenOwner", &p.email);
        }
        None => {
            j.str("type", "Member");
            j.str("principalId", &p.member_id);
            j.obj("details");
            j.str("email", &p.email);
            j.str("firstName", p.first);
            j.str("lastName", p.last);
            j.str("role", if p.admin { "admin" } else { "writer" });
        }
    }
    j.end();
    j.end();
    j.str(
        "userAgent",
        token.map_or(super::people::BROWSERS[p.browser], |t| t.2),
    );
    j.str("eventSource", SOURCE);
    j.str("eventName", action);
    ev.event_time();
    let unique = ev.unique;
    let rng = &mut *ev.rng;
    let j = &mut *ev.j;
    j.str_with("UID", |b| {
        let _ = write!(b, "{unique:016x}");
        write_chars(b, rng, HEX, 8);
    });

    j.obj("requestParameters");
    j.str("kind", "flag");
    j.strf(
        "resource",
        format_args!("proj/{project}:env/{env}:flag/{flag}"),
    );
    j.str("environmentKey", env);
    j.str("flagKey", flag);
    if rng.chance(0.4) {
        j.str("comment", rng.pick(&COMMENTS));
    }
    j.arr("instructions");
    j.begin();
    match action {
        "updateOn" => j.str("kind", if on { "turnFlagOn" } else { "turnFlagOff" }),
        "updateRules" => {
            j.str("kind", "addRule");
            j.arr("clauses");
            j.begin();
            j.str("attribute", "country");
            j.str("op", "in");
            let a = rng.index(COUNTRIES.len() - 1);
            j.strs("values", &COUNTRIES[a..a + 2]);
            j.bool("negate", false);
            j.end();
            j.end_arr();
            j.num("variation", 0);
        }
        "updateTargets" => {
            j.str("kind", "addTargets");
            j.str("contextKind", "user");
            j.num("variation", 0);
            j.arr("values");
            for _ in 0..rng.range(1, 3) {
                j.valf(format_args!("user-{}", rng.range(10_000, 99_999)));
            }
            j.end_arr();
        }
        "updateFallthrough" => {
            let percent = *rng.pick(&[5u64, 10, 25, 50, 100]);
            j.str("kind", "updateFallthroughVariationOrRollout");
            j.obj("rolloutWeights");
            j.num("true", percent * 1000);
            j.num("false", (100 - percent) * 1000);
            j.end();
            j.str("rolloutBucketBy", "key");
        }
        _ => j.str("kind", action),
    }
    j.end();
    j.end_arr();
    j.end();

    let version = rng.range(2, 180);
    let (secs, nanos) = (ev.tick.secs, ev.tick.nanos);
    if let Some((code, message)) = failure {
        ev.error(code, message);
    } else {
        j.obj("responseElements");
        j.num("version", version);
        j.bool("on", on || action != "updateOn");
        j.bool("archived", action == "updateGlobalArchived");
        j.num("_lastModified", secs * 1000 + i64::from(nanos / 1_000_000));
        j.end();
    }
    ev.source_ip();
    ev.recipient();
    let rng = &mut *ev.rng;
    let j = &mut *ev.j;
    j.obj("additionalEventData");
    j.str_with("auditLogEntryId", |b| write_chars(b, rng, HEX, 24));
    j.str("titleVerb", verb);
    j.end();
    j.end();
}
