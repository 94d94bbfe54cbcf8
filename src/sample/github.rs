//! GitHub audit log streaming events as the aws-samples GitHub integration maps them.

use std::fmt::Write as _;

use super::Ev;
use super::people::{BROWSERS, Person};
use super::rng::{ALNUM, Rng, write_base64url, write_chars};

pub(crate) const SOURCE: &str = "github.audit.streaming";
const ORG: &str = "acme-corp";
const ORG_ID: u32 = 81_234_567;
const BUSINESS: &str = "acme";
const BUSINESS_ID: u32 = 4_321;

/// Repositories with their weight and whether they are public.
const REPOS: [((&str, bool), u32); 16] = [
    (("acme-corp/payments-api", false), 14),
    (("acme-corp/web-storefront", false), 14),
    (("acme-corp/infra-terraform", false), 10),
    (("acme-corp/k8s-manifests", false), 9),
    (("acme-corp/auth-service", false), 8),
    (("acme-corp/mobile-app", false), 8),
    (("acme-corp/data-pipeline", false), 7),
    (("acme-corp/backoffice", false), 7),
    (("acme-corp/search-indexer", false), 5),
    (("acme-corp/billing-worker", false), 5),
    (("acme-corp/ml-recommender", false), 4),
    (("acme-corp/security-tools", false), 3),
    (("acme-corp/design-system", true), 3),
    (("acme-corp/docs", true), 2),
    (("acme-corp/terraform-provider-acme", true), 1),
    (("acme-corp/interview-exercises", false), 1),
];

/// Audit log actions, per mille.
const ACTIONS: [(&str, u32); 16] = [
    ("git.clone", 380),
    ("git.fetch", 200),
    ("git.push", 170),
    ("pull_request.merge", 80),
    ("repo.download_zip", 25),
    ("personal_access_token.access_granted", 15),
    ("repo.create", 20),
    ("team.add_member", 15),
    ("protected_branch.update", 15),
    ("org.invite_member", 12),
    ("org.add_member", 12),
    ("hook.create", 10),
    ("org.update_member", 8),
    ("org.remove_member", 8),
    ("repo.access", 6),
    ("repo.destroy", 4),
];

const TEAMS: [&str; 6] = [
    "platform",
    "payments",
    "storefront",
    "data",
    "security",
    "mobile",
];
const GIT_AGENTS: [&str; 4] = [
    "git/2.43.0",
    "git/2.39.3 (Apple Git-145)",
    "git/2.47.1.windows.1",
    "JGit/6.8.0",
];
const BOTS: [(&str, u32, &str); 2] = [
    ("github-actions[bot]", 41_898_282, "GitHub-Hookshot/actions"),
    ("dependabot[bot]", 49_699_333, "GitHub-Hookshot/dependabot"),
];
const PR_TITLES: [&str; 6] = [
    "Bump serde from 1.0.215 to 1.0.217",
    "Add retry to payment capture",
    "Fix \"null\" currency in refunds",
    "Rotate signing keys",
    "Migrate CI to reusable workflows",
    "Increase HPA max replicas for checkout",
];

pub(crate) fn event(ev: &mut Ev<'_>) {
    let pool = ev.pool;
    let action = *ev.rng.weighted(&ACTIONS);
    let (repo, public) = *ev.rng.weighted(&REPOS);
    let bot = matches!(
        action,
        "git.clone" | "git.fetch" | "git.push" | "pull_request.merge"
    ) && ev.rng.chance(0.15);
    let p = pool.engineer(ev.rng);
    let place = if bot {
        // GitHub-hosted runners live in Azure address space.
        let (b, c, d) = (ev.rng.below(256), ev.rng.below(256), ev.rng.range(1, 254));
        ev.ip.clear();
        let _ = write!(ev.ip, "20.{b}.{c}.{d}");
        "US"
    } else {
        ev.from(p).country_code
    };
    let (actor, actor_id, ua) = if bot {
        let (name, id, ua) = BOTS[usize::from(ev.rng.chance(0.2))];
        (name, id, ua)
    } else if action.starts_with("git.") {
        (p.login.as_str(), p.github_id, *ev.rng.pick(&GIT_AGENTS))
    } else {
        (p.login.as_str(), p.github_id, BROWSERS[p.browser])
    };
    let j = &mut *ev.j;
    j.begin();
    j.str("version", "0");
    j.obj("userIdentity");
    j.str("type", "user");
    j.str("principalId", actor);
    j.obj("details");
    j.str("GitHubOrganization", ORG);
    j.str(
        "Repository",
        if action.starts_with("org.") {
            "none"
        } else {
            repo
        },
    );
    j.obj("Location");
    j.str("country_code", place);
    j.end();
    j.end();
    j.end();
    j.str("userAgent", ua);
    j.str("eventSource", SOURCE);
    j.str("eventName", action);
    ev.event_time();
    let (unique, random) = (ev.unique, ev.rng.next_u64());
    ev.j.str_with("UID", |b| write_base64url(b, unique, random));
    let other = pool.anyone(ev.rng);
    let nameid = (!bot).then_some(p.email.as_str());
    request_parameters(
        ev.j,
        ev.rng,
        action,
        repo,
        public,
        (actor_id, nameid),
        other,
    );
    if action == "git.push" && !bot && ev.rng.chance(0.02) {
        ev.error(
            "PushRejected",
            "protected branch hook declined: required status checks are expected",
        );
    }
    ev.source_ip();
    ev.recipient();
    ev.j.end();
}

fn request_parameters(
    j: &mut super::json::JsonLine,
    rng: &mut Rng,
    action: &str,
    repo: &str,
    public: bool,
    (actor_id, nameid): (u32, Option<&str>),
    other: &Person,
) {
    j.obj("requestParameters");
    j.num("actor_id", actor_id);
    if let Some(email) = nameid {
        // Enterprise Managed Users carry their SAML identity: the link to the IdP.
        j.str("external_identity_nameid", email);
    }
    j.str("business", BUSINESS);
    j.num("business_id", BUSINESS_ID);
    j.num("org_id", ORG_ID);
    match action {
        "git.clone" | "git.fetch" | "git.push" | "repo.download_zip" => {
            j.str("repository", repo);
            j.bool("repository_public", public);
            if action != "repo.download_zip" {
                let ssh = rng.chance(0.35);
                j.num("transport_protocol", if ssh { 2 } else { 1 });
                j.str("transport_protocol_name", if ssh { "ssh" } else { "http" });
                if ssh {
                    j.str("programmatic_access_type", "SSH key");
                } else {
                    j.str("programmatic_access_type", "OAuth access token");
                    j.str_with("hashed_token", |b| {
                        write_chars(b, rng, ALNUM, 43);
                        b.push(b'=');
                    });
                }
            }
        }
        "pull_request.merge" => {
            let number = rng.range(100, 4800);
            j.num("pull_request_id", rng.range(1_500_000_000, 2_400_000_000));
            j.str("pull_request_title", rng.pick(&PR_TITLES));
            j.strf(
                "pull_request_url",
                format_args!("https://github.com/{repo}/pull/{number}"),
            );
            j.str(
                "merge_method",
                if rng.chance(0.7) { "squash" } else { "merge" },
            );
        }
        "repo.create" | "repo.destroy" => {
            j.num("repo_id", rng.range(500_000_000, 900_000_000));
            j.str("visibility", if public { "public" } else { "private" });
        }
        "repo.access" => {
            // A repository made public: the change analysts look for.
            let to_public = rng.chance(0.6);
            j.num("repo_id", rng.range(500_000_000, 900_000_000));
            j.str("visibility", if to_public { "public" } else { "private" });
            j.str(
                "previous_visibility",
                if to_public { "private" } else { "public" },
            );
        }
        "org.invite_member" | "org.add_member" | "org.remove_member" | "org.update_member" => {
            j.str("user", &other.login);
            j.num("user_id", other.github_id);
            match action {
                "org.invite_member" => j.str("invitee_email", &other.email),
                "org.update_member" => {
                    let admin = rng.chance(0.3);
                    j.str("permission", if admin { "admin" } else { "read" });
                    j.str("old_permission", if admin { "read" } else { "admin" });
                }
                _ => j.str("permission", "read"),
            }
        }
        "team.add_member" => {
            j.strf("team", format_args!("{ORG}/{}", rng.pick(&TEAMS)));
            j.str("user", &other.login);
        }
        "protected_branch.update" => {
            j.str("name", "main");
            j.str("repository", repo);
            j.num("required_approving_review_count", rng.range(0, 2));
            j.bool("enforce_admins", rng.chance(0.5));
            j.obj("required_status_checks");
            j.bool("strict", true);
            j.strs("contexts", &["ci/build", "ci/test", "codeql"]);
            j.end();
            j.strs("allowed_actors", &["acme-corp/release-managers"]);
        }
        "hook.create" => {
            j.num("hook_id", rng.range(400_000_000, 520_000_000));
            j.bool("active", true);
            j.strs("events", &["push", "pull_request"]);
            j.obj("config");
            j.str("url", "https://ci.acme.example/hooks/github");
            j.str("content_type", "json");
            j.str("insecure_ssl", if rng.chance(0.1) { "1" } else { "0" });
            j.end();
        }
        _ => {
            // personal_access_token.access_granted
            j.num("token_id", rng.range(1_000_000, 9_000_000));
            j.obj("permissions");
            j.str("contents", if rng.chance(0.3) { "write" } else { "read" });
            j.str("metadata", "read");
            j.end();
            j.strs("repositories", &[repo]);
        }
    }
    j.end();
}
