//! GCP Cloud Audit Logs as the aws-samples non-AWS-events integration maps them.

mod payload;

use std::fmt::Write as _;
use std::io::Write as _;

use super::Ev;
use super::clock::{Frac, write_iso};
use super::rng::write_base36;
use payload::{request, response};

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Shape {
    Instance,
    Firewall,
    ProjectIam,
    Key,
    Query,
    Bucket,
    Secret,
}

struct Method {
    service: &'static str,
    method: &'static str,
    permission: &'static str,
    shape: Shape,
}

const fn m(
    service: &'static str,
    method: &'static str,
    permission: &'static str,
    shape: Shape,
) -> Method {
    Method {
        service,
        method,
        permission,
        shape,
    }
}

/// Audited methods, per mille.
const METHODS: [(Method, u32); 15] = [
    (
        m(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.JobService.InsertJob",
            "bigquery.jobs.create",
            Shape::Query,
        ),
        220,
    ),
    (
        m(
            "secretmanager.googleapis.com",
            "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            "secretmanager.versions.access",
            Shape::Secret,
        ),
        160,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.instances.insert",
            "compute.instances.create",
            Shape::Instance,
        ),
        90,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.instances.delete",
            "compute.instances.delete",
            Shape::Instance,
        ),
        70,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.instances.stop",
            "compute.instances.stop",
            Shape::Instance,
        ),
        60,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.instances.setMetadata",
            "compute.instances.setMetadata",
            Shape::Instance,
        ),
        40,
    ),
    (
        m(
            "cloudresourcemanager.googleapis.com",
            "GetIamPolicy",
            "resourcemanager.projects.getIamPolicy",
            Shape::ProjectIam,
        ),
        110,
    ),
    (
        m(
            "cloudresourcemanager.googleapis.com",
            "SetIamPolicy",
            "resourcemanager.projects.setIamPolicy",
            Shape::ProjectIam,
        ),
        50,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.firewalls.insert",
            "compute.firewalls.create",
            Shape::Firewall,
        ),
        30,
    ),
    (
        m(
            "compute.googleapis.com",
            "v1.compute.firewalls.patch",
            "compute.firewalls.update",
            Shape::Firewall,
        ),
        20,
    ),
    (
        m(
            "iam.googleapis.com",
            "google.iam.admin.v1.CreateServiceAccountKey",
            "iam.serviceAccountKeys.create",
            Shape::Key,
        ),
        35,
    ),
    (
        m(
            "iam.googleapis.com",
            "google.iam.admin.v1.DeleteServiceAccountKey",
            "iam.serviceAccountKeys.delete",
            Shape::Key,
        ),
        20,
    ),
    (
        m(
            "storage.googleapis.com",
            "storage.buckets.create",
            "storage.buckets.create",
            Shape::Bucket,
        ),
        40,
    ),
    (
        m(
            "storage.googleapis.com",
            "storage.setIamPermissions",
            "storage.buckets.setIamPolicy",
            Shape::Bucket,
        ),
        35,
    ),
    (
        m(
            "storage.googleapis.com",
            "storage.buckets.delete",
            "storage.buckets.delete",
            Shape::Bucket,
        ),
        20,
    ),
];

const PROJECTS: [(&str, u64); 3] = [
    ("acme-prod-4821", 318_441_920_117),
    ("acme-staging-3390", 802_113_554_906),
    ("acme-data-1177", 559_870_213_448),
];
const ZONES: [&str; 3] = ["us-central1-a", "us-central1-b", "europe-west3-a"];
/// Service accounts: (email, user agent, project index).
const ROBOTS: [(&str, &str, usize); 3] = [
    (
        "terraform@acme-prod-4821.iam.gserviceaccount.com",
        "Terraform/1.9.8 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 terraform-provider-google/6.12.0",
        0,
    ),
    (
        "ci-deployer@acme-staging-3390.iam.gserviceaccount.com",
        "google-api-go-client/0.5 gke-gcloud-auth-plugin",
        1,
    ),
    (
        "data-pipeline@acme-data-1177.iam.gserviceaccount.com",
        "gl-python/3.12.7 grpc/1.68.0 gax/2.23.0 gapic/3.27.0 bq/3.27.0",
        2,
    ),
];
const GCLOUD: &str = "google-cloud-sdk gcloud/502.0.0 python/3.12.7,gzip(gfe)";
const ERRORS: [(&str, u32); 3] = [
    ("PERMISSION_DENIED", 75),
    ("NOT_FOUND", 15),
    ("ALREADY_EXISTS", 10),
];

pub(crate) fn event(ev: &mut Ev<'_>) {
    let pool = ev.pool;
    let Method {
        service,
        method,
        permission,
        shape,
    } = *ev.rng.weighted(&METHODS);
    let robot = shape != Shape::ProjectIam && ev.rng.chance(0.4);
    let person = pool.engineer(ev.rng);
    let (principal, ua, project) = if robot {
        let which = ev.rng.index(ROBOTS.len());
        let (email, ua, project) = ROBOTS[which];
        // CI and pipelines leave through a Cloud NAT: a handful of stable addresses.
        let host = ev.rng.range(1, 4);
        ev.ip.clear();
        let _ = write!(ev.ip, "34.{}.18.{host}", 72 + 3 * which);
        (email, ua, PROJECTS[project])
    } else {
        ev.from(person);
        let console = super::people::BROWSERS[person.browser];
        let ua = if ev.rng.chance(0.5) { GCLOUD } else { console };
        (person.email.as_str(), ua, *ev.rng.pick(&PROJECTS))
    };
    let failure = ev.rng.chance(0.08).then(|| *ev.rng.weighted(&ERRORS));
    let zone = *ev.rng.pick(&ZONES);
    let n = ev.rng.range(1, 40);
    let (secs, nanos) = (ev.tick.secs, ev.tick.nanos);

    let mut buf = std::mem::take(ev.scratch);
    buf.clear();
    let (p, _) = project;
    let _ = match shape {
        Shape::Instance => write!(buf, "projects/{p}/zones/{zone}/instances/worker-{n}"),
        Shape::Firewall => write!(buf, "projects/{p}/global/firewalls/allow-ingress-{n}"),
        Shape::ProjectIam => write!(buf, "projects/{p}"),
        Shape::Key => write!(
            buf,
            "projects/-/serviceAccounts/{}",
            ROBOTS[n as usize % 3].0
        ),
        Shape::Query => write!(buf, "projects/{p}/jobs/bqjob_r{n}"),
        Shape::Bucket => write!(buf, "projects/_/buckets/{p}-exports-{n}"),
        Shape::Secret => write!(
            buf,
            "projects/{}/secrets/db-password-{n}/versions/latest",
            project.1
        ),
    };
    let resource = std::str::from_utf8(&buf).unwrap_or_default();

    let j = &mut *ev.j;
    j.begin();
    // The integration takes receiveTimestamp as the version.
    j.str_with("version", |b| write_iso(b, secs, Frac::Nanos, nanos));
    j.obj("userIdentity");
    j.str("type", "GoogleCloudUser");
    j.str("principalId", principal);
    j.obj("details");
    j.str("resource", resource);
    j.str("permission", permission);
    j.bool("granted", !matches!(failure, Some("PERMISSION_DENIED")));
    j.obj("resourceAttributes");
    j.end();
    j.end();
    j.end();
    j.str("userAgent", ua);
    j.str("eventSource", service);
    j.str("eventName", method);
    ev.event_time();
    let unique = ev.unique;
    ev.j.str_with("UID", |b| write_base36(b, unique));
    request(ev.j, ev.rng, shape, method, resource, project, zone, n);
    match failure {
        Some(code) => {
            let j = &mut *ev.j;
            j.obj("responseElements");
            j.obj("status");
            j.num("code", if code == "PERMISSION_DENIED" { 7 } else { 5 });
            j.end();
            j.end();
            let mut message = String::with_capacity(160);
            let _ = match code {
                "PERMISSION_DENIED" => write!(
                    message,
                    "Permission '{permission}' denied on resource '{resource}' (or it may not exist)."
                ),
                "NOT_FOUND" => write!(message, "The resource '{resource}' was not found"),
                _ => write!(message, "The resource '{resource}' already exists"),
            };
            ev.error(code, &message);
        }
        None => response(ev.j, ev.rng, shape, resource, secs),
    }
    ev.source_ip();
    ev.recipient();
    let j = &mut *ev.j;
    j.obj("additionalEventData");
    let kind = match shape {
        Shape::Instance => "gce_instance",
        Shape::Firewall => "gce_firewall_rule",
        Shape::ProjectIam => "project",
        Shape::Key => "service_account",
        Shape::Query => "bigquery_project",
        Shape::Bucket => "gcs_bucket",
        Shape::Secret => "audited_resource",
    };
    j.str("type", kind);
    j.obj("labels");
    j.str("project_id", p);
    if shape == Shape::Instance {
        j.str("zone", zone);
    }
    j.end();
    j.end();
    j.end();
    *ev.scratch = buf;
}
