//! The published CloudTrail Lake management sample queries, run on the imported invictus logs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::Fixture;
use crate::import::{import, invictus, trail_store};

/// Queries whose published text is not valid SQL, with what is wrong: each must fail with
/// a parse error.
const KNOWN_INVALID: &[(&str, &str)] = &[
    ("iam-idc-authenticate-api.sql", "`FROM FROM <EDS ID>`"),
    (
        "list-all-errors-for-s3-events.sql",
        "the text of an example (`'s3.amazonaws.com'example: select ...`) follows the query",
    ),
    (
        "list-all-events-not-in-authorized-region.sql",
        "`'<accountid>': select ...`: a second query pasted after the first",
    ),
    (
        "list-attempted-s3-requests..sql",
        "`requestParametersORDER BY`: a space missing before ORDER",
    ),
    (
        "list-publicly-accessible-rds-instances.sql",
        "`= 'true'SELECT *`: two queries run together",
    ),
    (
        "network-activity-events-vpce-access-denied-s3.sql",
        "selects eventType, eventCategory and errorCode without grouping by them (Trino \
         refuses it too); fails in planning, not parsing",
    ),
    (
        "top-errors.sql",
        "`errorMessageORDER BY eventCount DESCLIMIT 10`: spaces missing before ORDER and LIMIT",
    ),
    (
        "top-s3-actions.sql",
        "`eventNameORDER BY`: a space missing before ORDER",
    ),
];

/// Every placeholder the published management queries use for the event data store ID.
const STORE_PLACEHOLDERS: &[&str] = &[
    "$EDS_ID",
    "<EDS ID>",
    "<EDS_ID>",
    "<event_data_store_id>",
    "<Event data store Id>",
    "<event-data-store-ID>",
    "<event data store id>",
    "{{replace with your event data store id}}",
    "3270e016-59a1-4448-8dd1-d27a4796502d",
];

#[test]
fn management_sample_queries_run_on_imported_logs() {
    let Some(dir) = invictus() else { return };
    let queries = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/lake-sample-queries/management");
    let fx = Fixture::new();
    let trail = trail_store(&fx);
    let (code, _) = import(&fx, &[], &[&dir]);
    assert_eq!(code, 0);

    let mut files: Vec<PathBuf> = std::fs::read_dir(&queries)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "the management queries are there");
    let mut failed = BTreeSet::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut sql = std::fs::read_to_string(path).unwrap();
        for placeholder in STORE_PLACEHOLDERS {
            sql = sql.replace(placeholder, &trail);
        }
        sql = sql.replace("${date_filter}", "2023-07-10 12:00:00");
        let file = fx.path().join(&name);
        std::fs::write(&file, &sql).unwrap();
        let out = fx
            .cmd()
            .args(["query", "--format", "ndjson", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        if out.status.success() {
            let rows = String::from_utf8_lossy(&out.stdout).lines().count();
            println!("ok      {name}: {rows} rows");
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            println!("FAILED  {name}: {}", err.trim());
            let expected = KNOWN_INVALID.iter().any(|(n, _)| *n == name);
            if expected {
                let lower = err.to_lowercase();
                assert!(
                    lower.contains("parse")
                        || lower.contains("syntax")
                        || lower.contains("must appear in the group by"),
                    "{name} must fail with a parse error, not: {err}"
                );
            }
            failed.insert(name);
        }
    }
    let known: BTreeSet<String> = KNOWN_INVALID.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        failed, known,
        "the queries that fail are exactly the invalid ones"
    );
}
