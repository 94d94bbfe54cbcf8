//! Request and response bodies of the audited GCP methods, nested as the real ones are.

use std::io::Write as _;

use super::Shape;
use crate::sample::json::JsonLine;
use crate::sample::people::EMAIL_DOMAIN;
use crate::sample::rng::{ALNUM, HEX, Rng, write_chars};

const ROLES: [(&str, u32); 5] = [
    ("roles/viewer", 40),
    ("roles/editor", 25),
    ("roles/bigquery.dataViewer", 20),
    ("roles/storage.admin", 10),
    ("roles/owner", 5),
];
const QUERIES: [&str; 3] = [
    "SELECT country, COUNT(*) AS orders FROM `acme-data-1177.sales.orders` WHERE placed_at >= '2025-12-01' GROUP BY country",
    "SELECT customer_id, email, lifetime_value FROM `acme-data-1177.crm.customers` ORDER BY lifetime_value DESC LIMIT 1000",
    "INSERT INTO `acme-data-1177.marts.daily_revenue` SELECT DATE(placed_at), SUM(total) FROM `acme-data-1177.sales.orders` GROUP BY 1",
];
#[allow(clippy::too_many_arguments)]
pub(super) fn request(
    j: &mut JsonLine,
    rng: &mut Rng,
    shape: Shape,
    method: &str,
    resource: &str,
    (project, _): (&str, u64),
    zone: &str,
    n: u64,
) {
    j.obj("requestParameters");
    let short = method.rsplit('.').next().unwrap_or(method);
    match shape {
        Shape::Instance if method.ends_with("insert") => {
            j.str("@type", "type.googleapis.com/compute.instances.insert");
            j.strf("name", format_args!("worker-{n}"));
            j.strf(
                "machineType",
                format_args!(
                    "zones/{zone}/machineTypes/{}",
                    rng.pick(&["e2-standard-4", "n2-highmem-8", "e2-micro"])
                ),
            );
            j.bool("deletionProtection", false);
            j.arr("disks");
            j.begin();
            j.bool("boot", true);
            j.bool("autoDelete", true);
            j.obj("initializeParams");
            j.str(
                "sourceImage",
                "projects/debian-cloud/global/images/family/debian-12",
            );
            j.str("diskSizeGb", "50");
            j.end();
            j.end();
            j.end_arr();
            j.arr("networkInterfaces");
            j.begin();
            j.strf(
                "network",
                format_args!("projects/{project}/global/networks/default"),
            );
            if rng.chance(0.3) {
                j.arr("accessConfigs");
                j.begin();
                j.str("type", "ONE_TO_ONE_NAT");
                j.str("name", "External NAT");
                j.end();
                j.end_arr();
            }
            j.end();
            j.end_arr();
        }
        Shape::Instance => j.strf(
            "@type",
            format_args!("type.googleapis.com/compute.instances.{short}"),
        ),
        Shape::Firewall => {
            j.strf(
                "@type",
                format_args!("type.googleapis.com/compute.firewalls.{short}"),
            );
            j.strf("name", format_args!("allow-ingress-{n}"));
            j.str("direction", "INGRESS");
            j.num("priority", 1000);
            j.strs(
                "sourceRanges",
                &[if rng.chance(0.2) {
                    "0.0.0.0/0"
                } else {
                    "10.0.0.0/8"
                }],
            );
            j.arr("alloweds");
            j.begin();
            j.str("IPProtocol", "tcp");
            j.strs("ports", &[*rng.pick(&["22", "443", "3389", "5432"])]);
            j.end();
            j.end_arr();
        }
        Shape::ProjectIam if short == "SetIamPolicy" => {
            j.str(
                "@type",
                "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
            );
            j.str("resource", resource);
            j.obj("policy");
            j.arr("bindings");
            j.begin();
            j.str("role", rng.weighted(&ROLES));
            j.arr("members");
            if rng.chance(0.06) {
                j.valf(format_args!("user:contractor{}@gmail.com", rng.range(1, 9)));
            } else {
                j.valf(format_args!(
                    "group:team-{}@{}",
                    rng.pick(&["data", "platform", "payments"]),
                    EMAIL_DOMAIN
                ));
            }
            j.end_arr();
            j.end();
            j.end_arr();
            j.str_with("etag", |b| write_chars(b, rng, ALNUM, 12));
            j.end();
            j.str("updateMask", "bindings,etag");
        }
        Shape::ProjectIam => {
            j.str(
                "@type",
                "type.googleapis.com/google.iam.v1.GetIamPolicyRequest",
            );
            j.str("resource", resource);
            j.obj("options");
            j.num("requestedPolicyVersion", 3);
            j.end();
        }
        Shape::Key => {
            j.strf(
                "@type",
                format_args!("type.googleapis.com/google.iam.admin.v1.{short}Request"),
            );
            j.str("name", resource);
            j.num("private_key_type", 2);
        }
        Shape::Query => {
            j.str(
                "@type",
                "type.googleapis.com/google.cloud.bigquery.v2.InsertJobRequest",
            );
            j.str("projectId", project);
            j.obj("job");
            j.obj("jobConfiguration");
            j.obj("query");
            j.str("query", rng.pick(&QUERIES));
            j.bool("useLegacySql", false);
            j.str("priority", "INTERACTIVE");
            j.end();
            j.end();
            j.end();
        }
        Shape::Bucket if short == "setIamPermissions" => {
            j.str(
                "@type",
                "type.googleapis.com/google.iam.v1.SetIamPolicyRequest",
            );
            j.str("resource", resource);
            j.obj("policy");
            j.arr("bindings");
            j.begin();
            j.str("role", "roles/storage.objectViewer");
            j.strs(
                "members",
                &[if rng.chance(0.1) {
                    "allUsers"
                } else {
                    "projectViewer:acme-data-1177"
                }],
            );
            j.end();
            j.end_arr();
            j.end();
        }
        Shape::Bucket => {
            j.strf(
                "@type",
                format_args!("type.googleapis.com/storage.buckets.{short}"),
            );
            j.obj("bucket");
            j.str("name", resource.rsplit('/').next().unwrap_or(resource));
            j.str("location", "EU");
            j.str("storageClass", "STANDARD");
            j.obj("iamConfiguration");
            j.bool("uniformBucketLevelAccess", rng.chance(0.85));
            j.end();
            j.end();
        }
        Shape::Secret => {
            j.str(
                "@type",
                "type.googleapis.com/google.cloud.secretmanager.v1.AccessSecretVersionRequest",
            );
            j.str("name", resource);
        }
    }
    j.end();
}

pub(super) fn response(j: &mut JsonLine, rng: &mut Rng, shape: Shape, resource: &str, secs: i64) {
    j.obj("responseElements");
    match shape {
        Shape::Instance | Shape::Firewall => {
            j.str("@type", "type.googleapis.com/operation");
            j.strf(
                "id",
                format_args!(
                    "{}",
                    rng.range(1_000_000_000_000_000_000, 9_000_000_000_000_000_000)
                ),
            );
            j.str_with("name", |b| {
                let _ = write!(b, "operation-{}-", secs * 1000);
                write_chars(b, rng, HEX, 12);
            });
            j.str("status", "RUNNING");
            j.str("progress", "0");
        }
        Shape::Key => {
            j.str(
                "@type",
                "type.googleapis.com/google.iam.admin.v1.ServiceAccountKey",
            );
            j.str_with("name", |b| {
                let _ = write!(b, "{resource}/keys/");
                write_chars(b, rng, HEX, 40);
            });
            j.obj("valid_after_time");
            j.num("seconds", secs);
            j.end();
            j.num("key_algorithm", 2);
        }
        Shape::Query => {
            j.str("@type", "type.googleapis.com/google.cloud.bigquery.v2.Job");
            j.obj("jobStatistics");
            j.strf(
                "totalBilledBytes",
                format_args!("{}", rng.range(10, 400_000) * 1_048_576),
            );
            j.end();
            j.str("state", "DONE");
        }
        Shape::ProjectIam | Shape::Bucket => {
            j.str("@type", "type.googleapis.com/google.iam.v1.Policy");
            j.num("version", 1);
        }
        Shape::Secret => {}
    }
    j.end();
}
