//! The in-house back-office app: support agents viewing customers, refunds, exports, role changes.

use std::fmt::Write as _;

use super::Ev;
use super::json::JsonLine;
use super::people::{BROWSERS, Person};
use super::rng::Rng;

pub(crate) const SOURCE: &str = "backoffice.acme.internal";

/// Actions, per mille.
const ACTIONS: [(&str, u32); 11] = [
    ("SearchOrders", 250),
    ("ViewCustomer", 240),
    ("SignIn", 110),
    ("UpdateOrder", 100),
    ("IssueRefund", 90),
    ("ApproveRefund", 40),
    ("ExportCustomerData", 40),
    ("CreateDiscountCode", 70),
    ("UpdatePaymentSettings", 20),
    ("ChangeUserRole", 20),
    ("DeleteCustomer", 20),
];
/// Service accounts: (name, client id, user agent, actions it performs).
const SERVICES: [(&str, &str, &str, &str); 2] = [
    (
        "svc-refund-reconciler",
        "0oa7r3c9k2",
        "acme-reconciler/2.4.1 python-requests/2.32.3",
        "ApproveRefund",
    ),
    (
        "svc-crm-sync",
        "0oa1s8m4q7",
        "crm-sync/1.12.0 (+https://crm.acme.example)",
        "ExportCustomerData",
    ),
];
const ROLES: [&str; 4] = ["support-agent", "support-lead", "finance-analyst", "admin"];
const REASONS: [&str; 4] = ["damaged", "not-delivered", "wrong-size", "goodwill"];
const CURRENCIES: [&str; 4] = ["USD", "EUR", "GBP", "INR"];
const COUNTRIES: [&str; 6] = ["US", "DE", "GB", "IN", "FR", "NL"];
const STATUSES: [&str; 4] = ["placed", "shipped", "delivered", "cancelled"];
const ERRORS: [((&str, &str), u32); 4] = [
    (
        (
            "AccessDenied",
            "The caller is not authorized to perform this action",
        ),
        45,
    ),
    (
        (
            "ValidationError",
            "Request failed validation: amount.value must not exceed the order total",
        ),
        25,
    ),
    (
        ("NotFound", "The requested customer or order does not exist"),
        20,
    ),
    (("ThrottlingException", "Rate exceeded"), 10),
];

pub(crate) fn event(ev: &mut Ev<'_>) {
    let pool = ev.pool;
    let which = ev.rng.chance(0.12).then(|| ev.rng.index(SERVICES.len()));
    let service = which.map(|s| &SERVICES[s]);
    // Support, finance and sales live in the back office; others drop by now and then.
    let mut p = pool.anyone(ev.rng);
    for _ in 0..3 {
        if matches!(p.department, "Support" | "Finance" | "Sales") {
            break;
        }
        p = pool.anyone(ev.rng);
    }
    let action = match service {
        Some(s) => s.3,
        None => *ev.rng.weighted(&ACTIONS),
    };
    if service.is_some() {
        // Batch jobs run inside the VPC, each on its own pair of hosts.
        let host = 11 + 2 * which.unwrap_or(0) as u64 + ev.rng.below(2);
        ev.ip.clear();
        let _ = write!(ev.ip, "10.20.3.{host}");
    } else {
        ev.from(p);
    }
    // Support and finance do the sensitive things; others are mostly denied.
    let entitled = matches!(p.department, "Support" | "Finance") || p.admin;
    let fail_rate = if entitled || service.is_some() || matches!(action, "SignIn" | "SearchOrders")
    {
        0.045
    } else {
        0.2
    };
    let failure = ev.rng.chance(fail_rate).then(|| {
        if entitled || service.is_some() {
            *ev.rng.weighted(&ERRORS)
        } else {
            ERRORS[0].0
        }
    });

    let j = &mut *ev.j;
    j.begin();
    j.str("version", "1.0");
    j.obj("userIdentity");
    match service {
        Some((name, client, _, _)) => {
            j.str("type", "ServiceAccount");
            j.str("principalId", name);
            j.obj("details");
            j.str("clientId", client);
            j.strs(
                "scopes",
                &["orders:read", "refunds:write", "customers:export"],
            );
        }
        None => {
            j.str("type", "Employee");
            j.str("principalId", &p.email);
            j.obj("details");
            j.strf("employeeId", format_args!("E{}", p.employee_id));
            j.str("department", p.department);
            j.str("role", role(p));
            j.bool("mfaAuthenticated", true);
        }
    }
    j.end();
    j.end();
    j.str("userAgent", service.map_or(BROWSERS[p.browser], |s| s.2));
    j.str("eventSource", SOURCE);
    j.str("eventName", action);
    ev.event_time();
    ev.uuid("UID");
    let other = pool.anyone(ev.rng);
    let amount = refund_amount(ev.rng);
    request(ev.j, ev.rng, action, amount, other);
    match failure {
        Some((code, message)) => ev.error(code, message),
        None => response(ev.j, ev.rng, action),
    }
    ev.source_ip();
    ev.recipient();
    let (latency, tenant) = (ev.rng.range(8, 900), *ev.rng.pick(&["us", "eu"]));
    let j = &mut *ev.j;
    j.obj("additionalEventData");
    j.num("latencyMs", latency);
    j.str("tenant", tenant);
    j.end();
    j.end();
}

fn role(p: &Person) -> &'static str {
    match p.department {
        _ if p.admin => ROLES[3],
        "Support" if p.employee_id.is_multiple_of(5) => ROLES[1],
        "Support" => ROLES[0],
        "Finance" => ROLES[2],
        _ => "viewer",
    }
}

/// Most refunds are small; a few are large enough to need a second look.
fn refund_amount(rng: &mut Rng) -> f64 {
    let u = rng.f64();
    let amount = if rng.chance(0.04) {
        1000.0 + 4000.0 * u
    } else {
        5.0 + 400.0 * u * u
    };
    (amount * 100.0).round() / 100.0
}

fn request(j: &mut JsonLine, rng: &mut Rng, action: &str, amount: f64, other: &Person) {
    let order = rng.range(1_000_000, 9_999_999);
    let customer = rng.range(100_000, 999_999);
    j.obj("requestParameters");
    match action {
        "SearchOrders" => {
            j.obj("query");
            let first = rng.index(STATUSES.len() - 1);
            j.strs("status", &STATUSES[first..first + 2]);
            j.str("country", rng.pick(&COUNTRIES));
            j.str("placedAfter", "2025-12-01");
            j.end();
            j.num("page", rng.range(1, 5));
            j.num("pageSize", 50);
        }
        "ViewCustomer" => {
            j.strf("customerId", format_args!("C-{customer}"));
            j.strs(
                "fields",
                &["email", "phone", "address"][..rng.range(1, 3) as usize],
            );
            j.strf(
                "reason",
                format_args!("ticket-{}", rng.range(40_000, 60_000)),
            );
        }
        "UpdateOrder" => {
            j.strf("orderId", format_args!("O-{order}"));
            j.obj("changes");
            j.str("status", rng.pick(&STATUSES));
            j.obj("shippingAddress");
            j.str("country", rng.pick(&COUNTRIES));
            j.strf("postalCode", format_args!("{}", rng.range(10_000, 99_999)));
            j.end();
            j.end();
            j.bool("notifyCustomer", rng.chance(0.8));
        }
        "IssueRefund" | "ApproveRefund" => {
            j.strf("orderId", format_args!("O-{order}"));
            j.obj("amount");
            j.num("value", amount);
            j.str("currency", rng.pick(&CURRENCIES));
            j.end();
            j.str("reason", rng.pick(&REASONS));
            j.arr("items");
            for _ in 0..rng.range(1, 3) {
                j.begin();
                j.strf("sku", format_args!("SKU-{}", rng.range(10_000, 99_999)));
                j.num("qty", rng.range(1, 3));
                j.end();
            }
            j.end_arr();
            j.bool("notifyCustomer", true);
        }
        "ExportCustomerData" => {
            j.str("format", if rng.chance(0.7) { "csv" } else { "parquet" });
            j.obj("filters");
            j.str("country", rng.pick(&COUNTRIES));
            j.str("segment", rng.pick(&["vip", "churn-risk", "all"]));
            j.end();
            j.bool("includePII", rng.chance(0.4));
            j.num("rowLimit", *rng.pick(&[1000u32, 10_000, 50_000, 1_000_000]));
            j.strf(
                "destination",
                format_args!("s3://acme-exports/crm/{}.csv", rng.range(1, 9999)),
            );
        }
        "CreateDiscountCode" => {
            j.strf("code", format_args!("SAVE{}", rng.range(5, 50)));
            j.num("percentOff", rng.range(5, 50));
            j.num("maxRedemptions", rng.range(1, 100) * 100);
            j.bool("stackable", rng.chance(0.1));
        }
        "ChangeUserRole" => {
            j.str("targetUser", &other.email);
            j.str("fromRole", role(other));
            j.str("toRole", rng.pick(&ROLES));
        }
        "DeleteCustomer" => {
            j.strf("customerId", format_args!("C-{customer}"));
            j.bool("gdprRequest", rng.chance(0.8));
            j.strf("ticket", format_args!("GDPR-{}", rng.range(1000, 9999)));
        }
        "UpdatePaymentSettings" => {
            j.str("provider", rng.pick(&["stripe", "adyen"]));
            j.obj("settings");
            j.bool("threeDSecure", rng.chance(0.9));
            j.num("captureDelayHours", rng.range(0, 72));
            j.end();
        }
        _ => {
            j.str("method", "okta-sso");
            j.bool("mfa", true);
        }
    }
    j.end();
}

fn response(j: &mut JsonLine, rng: &mut Rng, action: &str) {
    j.obj("responseElements");
    j.num(
        "status",
        if action.starts_with("Create") {
            201
        } else {
            200
        },
    );
    match action {
        "SearchOrders" => j.num("resultCount", rng.range(0, 480)),
        "ExportCustomerData" => j.num("rowCount", rng.range(10, 60_000)),
        "IssueRefund" | "ApproveRefund" => j.strf(
            "refundId",
            format_args!("R-{}", rng.range(100_000, 999_999)),
        ),
        _ => {}
    }
    j.end();
}
