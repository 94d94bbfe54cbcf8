//! Tests of the Lake SQL rewriter: parameters, and store IDs, names and ARNs in FROM / JOIN.

use super::*;

const ID: &str = "4b8e4e47-7d9f-4bd5-a0bb-0a1d5d8b6a43";
const OTHER: &str = "181660c8-d56d-4ec1-aa32-c1713fb3bca3";

fn stores() -> Vec<StoreRef> {
    vec![
        StoreRef {
            id: ID.into(),
            name: "okta-logs.prod".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{ID}"),
            unavailable: None,
        },
        StoreRef {
            id: OTHER.into(),
            name: "mgmt".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{OTHER}"),
            unavailable: None,
        },
    ]
}

fn rewrite(sql: &str) -> String {
    rewrite_table_refs(sql, &stores()).unwrap()
}

#[test]
fn bare_id_name_and_arn_become_the_quoted_id() {
    let want = format!("SELECT * FROM \"{ID}\" WHERE x = 1");
    assert_eq!(rewrite(&format!("SELECT * FROM {ID} WHERE x = 1")), want);
    assert_eq!(rewrite("SELECT * FROM okta-logs.prod WHERE x = 1"), want);
    assert_eq!(
        rewrite(&format!(
            "SELECT * FROM arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/{ID} WHERE x = 1"
        )),
        want
    );
    assert_eq!(
        rewrite(&format!(
            "SELECT * FROM \"{}\" WHERE x = 1",
            ID.to_uppercase()
        )),
        want
    );
    assert_eq!(
        rewrite("SELECT * FROM \"okta-logs.prod\" WHERE x = 1"),
        want
    );
    assert_eq!(
        rewrite("SELECT * FROM MGMT"),
        format!("SELECT * FROM \"{OTHER}\"")
    );
}

#[test]
fn joins_comma_lists_aliases_and_unions() {
    let sql = format!(
        "select a.x from {ID} a join mgmt b on a.x = b.x, {OTHER} c \
         union all select 1 from\n  -- the store\n  okta-logs.prod;"
    );
    assert_eq!(
        rewrite(&sql),
        format!(
            "select a.x from \"{ID}\" a join \"{OTHER}\" b on a.x = b.x, \"{OTHER}\" c \
             union all select 1 from\n  -- the store\n  \"{ID}\";"
        )
    );
    let sql = format!("SELECT * FROM {ID} e, {OTHER} m WHERE e.x = m.x");
    assert_eq!(
        rewrite(&sql),
        format!("SELECT * FROM \"{ID}\" e, \"{OTHER}\" m WHERE e.x = m.x")
    );
}

#[test]
fn ids_in_strings_comments_and_identifiers_are_untouched() {
    let sql = format!(
        "SELECT '{ID}', \"FROM {ID}\" -- FROM {ID}\n/* from mgmt */ FROM t WHERE s = 'from mgmt'"
    );
    assert_eq!(rewrite(&sql), sql);
}

#[test]
fn from_inside_functions_and_distinct_from_is_not_a_table() {
    let sql =
        "SELECT extract(year FROM mgmt), substring(s FROM 2), a IS DISTINCT FROM mgmt FROM mgmt";
    assert_eq!(
        rewrite(sql),
        format!(
            "SELECT extract(year FROM mgmt), substring(s FROM 2), a IS DISTINCT FROM mgmt FROM \"{OTHER}\""
        )
    );
}

#[test]
fn subqueries_and_ctes_are_left_alone() {
    let sql = format!("WITH x AS (SELECT * FROM {ID}) SELECT * FROM x, (SELECT 1) y");
    assert_eq!(
        rewrite(&sql),
        format!("WITH x AS (SELECT * FROM \"{ID}\") SELECT * FROM x, (SELECT 1) y")
    );
}

#[test]
fn unknown_store_names_the_known_ones() {
    for given in [
        "00000000-0000-0000-0000-000000000000",
        "xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxx",
        "no-such-store",
    ] {
        let err = rewrite_table_refs(&format!("SELECT 1 FROM {given}"), &stores()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("`{given}` after FROM")), "{msg}");
        assert!(msg.contains(&format!("okta-logs.prod ({ID})")), "{msg}");
        assert!(msg.contains(&format!("mgmt ({OTHER})")), "{msg}");
    }
    let err = rewrite_table_refs(&format!("SELECT 1 FROM {ID}"), &[]).unwrap_err();
    assert!(err.to_string().contains("no event data stores"), "{err}");
}

#[test]
fn pending_deletion_store_is_refused() {
    let mut s = stores();
    s[1].unavailable = Some("PENDING_DELETION".into());
    let err = rewrite_table_refs("SELECT 1 FROM mgmt", &s).unwrap_err();
    assert!(err.to_string().contains("PENDING_DELETION"), "{err}");
}

#[test]
fn params_fill_code_and_strings_but_not_comments() {
    let params = vec![
        ("eds".to_string(), ID.to_string()),
        ("date_filter".to_string(), "2023-01-01 00:00:00".to_string()),
    ];
    let sql = "SELECT * FROM ${eds} -- ${unset}\nWHERE eventTime >= '${DATE_FILTER}' AND a = '$x' AND b = '${'";
    assert_eq!(
        substitute_params(sql, &params).unwrap(),
        format!(
            "SELECT * FROM {ID} -- ${{unset}}\nWHERE eventTime >= '2023-01-01 00:00:00' AND a = '$x' AND b = '${{'"
        )
    );
}

#[test]
fn params_left_unfilled_are_named() {
    let err =
        substitute_params("SELECT ${a}, ${b}, ${a}", &[("b".into(), "1".into())]).unwrap_err();
    match err {
        QueryError::MissingParams(names) => assert_eq!(names, vec!["a".to_string()]),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn uuid_shape() {
    assert!(is_uuid(ID));
    assert!(!is_uuid("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
    assert!(!is_uuid("4b8e4e47-7d9f-4bd5-a0bb"));
}

#[test]
fn field_access_after_a_call_becomes_a_subscript() {
    assert_eq!(
        rewrite_field_access(
            "SELECT element_at(resources,1\n    ).ARN, (x).\"Type\".b, t.a, 1.5, f(x) .c"
        ),
        "SELECT element_at(resources,1\n    )['arn'], (x)['Type']['b'], t.a, 1.5, f(x) .c"
    );
    assert_eq!(
        rewrite_field_access("SELECT ').a' FROM t"),
        "SELECT ').a' FROM t"
    );
    // Where each written 'field' starts, as the parser's spans count (1-based, characters).
    let (sql, marks) = rewrite_field_access_marked("SELECT é(x).a,\n  m['k'], f(y).b");
    assert_eq!(sql, "SELECT é(x)['a'],\n  m['k'], f(y)['b']");
    assert_eq!(marks, [(1, 13), (2, 16)]);
}
