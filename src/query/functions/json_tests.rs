//! Tests of the JSON functions through SQL, as a query uses them.

use super::super::test_util::{error, one_column, s, value};

#[tokio::test]
async fn json_extract_scalar_gives_scalars_as_text() {
    let doc =
        r#"'{"a": {"b": "x", "n": 1.5, "i": 7, "t": true, "z": null, "o": {}, "l": [1, "two"]}}'"#;
    for (path, want) in [
        ("$.a.b", s("x")),
        ("$.a.n", s("1.5")),
        ("$.a.i", s("7")),
        ("$.a.t", s("true")),
        ("$.a.l[1]", s("two")),
        ("$[\"a\"].b", s("x")),
        ("$.a.z", None),
        ("$.a.o", None),
        ("$.a.l", None),
        ("$.a.missing", None),
    ] {
        let sql = format!("SELECT json_extract_scalar({doc}, '{path}')");
        assert_eq!(value(&sql).await, want, "{path}");
    }
}

#[tokio::test]
async fn json_extract_scalar_is_null_for_null_input_and_text_that_is_not_json() {
    assert_eq!(value("SELECT json_extract_scalar(NULL, '$.a')").await, None);
    assert_eq!(
        value("SELECT json_extract_scalar('{\"a\":1}', NULL)").await,
        None
    );
    assert_eq!(
        value("SELECT json_extract_scalar('{\"a\":', '$.a')").await,
        None
    );
    assert_eq!(
        value("SELECT json_extract_scalar('plain', '$')").await,
        None
    );
    let sql = "SELECT json_extract_scalar(j, '$.v') FROM (VALUES ('{\"v\":\"1\"}'), (NULL), ('{\"v\":2}')) t(j)";
    assert_eq!(one_column(sql).await, vec![s("1"), None, s("2")]);
}

#[tokio::test]
async fn a_malformed_path_fails_the_query() {
    let err = error("SELECT json_extract_scalar('{}', 'a.b')").await;
    assert!(err.contains("Invalid JSON path: 'a.b'"), "{err}");
}

#[tokio::test]
async fn json_extract_gives_compact_json_text() {
    let doc = r#"'{"a": {"b": [1, {"c": "x"}]}, "n": null}'"#;
    let sql = format!("SELECT json_extract({doc}, '$.a')");
    assert_eq!(value(&sql).await, s(r#"{"b":[1,{"c":"x"}]}"#));
    let sql = format!("SELECT json_extract({doc}, '$.a.b[1].c')");
    assert_eq!(value(&sql).await, s(r#""x""#));
    let sql = format!("SELECT json_extract({doc}, '$.n')");
    assert_eq!(value(&sql).await, s("null"));
    let sql = format!("SELECT json_extract({doc}, '$.gone')");
    assert_eq!(value(&sql).await, None);
    assert_eq!(value("SELECT json_extract('[1,', '$[0]')").await, None);
}

#[tokio::test]
async fn json_size_counts_members_and_elements() {
    let doc = r#"'{"a": {"x": 1, "y": 2}, "b": [1, 2, 3], "c": 4}'"#;
    for (path, want) in [
        ("$.a", s("2")),
        ("$.b", s("3")),
        ("$.c", s("0")),
        ("$.d", None),
    ] {
        assert_eq!(
            value(&format!("SELECT json_size({doc}, '{path}')")).await,
            want
        );
    }
}

#[tokio::test]
async fn json_array_get_counts_from_zero_and_from_the_end() {
    let doc = r#"'["a", [3, 9], "c", null]'"#;
    for (index, want) in [
        ("0", s("a")),
        ("1", s("[3,9]")),
        ("-2", s("c")),
        ("-1", None),
        ("4", None),
        ("-5", None),
        ("NULL", None),
    ] {
        let sql = format!("SELECT json_array_get({doc}, {index})");
        assert_eq!(value(&sql).await, want, "{index}");
    }
    assert_eq!(value("SELECT json_array_get('{\"a\":1}', 0)").await, None);
    assert_eq!(value("SELECT json_array_get('[1', 0)").await, None);
}

#[tokio::test]
async fn json_array_length_is_null_unless_an_array() {
    let sql = "SELECT json_array_length(j) FROM (VALUES ('[1, [2, 3], {}]'), ('[]'), ('{\"a\":1}'), ('[1'), (NULL)) t(j)";
    assert_eq!(
        one_column(sql).await,
        vec![s("3"), s("0"), None, None, None]
    );
}

#[tokio::test]
async fn json_array_contains_matches_by_type() {
    let doc = r#"'[1, 2.5, "x", true]'"#;
    for (needle, want) in [
        ("1", s("true")),
        ("2.5", s("true")),
        ("'x'", s("true")),
        ("true", s("true")),
        ("'1'", s("false")),
        ("false", s("false")),
        ("3", s("false")),
        ("NULL", None),
    ] {
        let sql = format!("SELECT json_array_contains({doc}, {needle})");
        assert_eq!(value(&sql).await, want, "{needle}");
    }
    assert_eq!(
        value("SELECT json_array_contains('{\"a\":1}', 1)").await,
        None
    );
    assert_eq!(value("SELECT json_array_contains('[1', 1)").await, None);
}

#[tokio::test]
async fn json_parse_and_json_format_canonicalise_or_fail() {
    let sql = r#"SELECT json_parse('{"b": [1, {"d": 1, "c": 2}], "a": "x"}')"#;
    assert_eq!(value(sql).await, s(r#"{"a":"x","b":[1,{"c":2,"d":1}]}"#));
    let sql = r#"SELECT json_format(json_parse('[1, "two", null]'))"#;
    assert_eq!(value(sql).await, s(r#"[1,"two",null]"#));
    assert_eq!(
        value(r#"SELECT json_format('{"b": 1, "a": 2}')"#).await,
        s(r#"{"b":1,"a":2}"#)
    );
    assert_eq!(value("SELECT json_parse(NULL)").await, None);
    let err = error("SELECT json_parse('{\"a\":')").await;
    assert!(
        err.contains("Cannot convert value to JSON: '{\"a\":'"),
        "{err}"
    );
}

#[tokio::test]
async fn is_json_scalar_tells_scalars_from_containers() {
    let sql = "SELECT is_json_scalar(j) FROM (VALUES ('1'), ('\"x\"'), ('null'), ('[1]'), ('{}'), (NULL)) t(j)";
    let want = vec![
        s("true"),
        s("true"),
        s("true"),
        s("false"),
        s("false"),
        None,
    ];
    assert_eq!(one_column(sql).await, want);
    assert!(
        error("SELECT is_json_scalar('nope')")
            .await
            .contains("Cannot convert value to JSON")
    );
}

#[tokio::test]
async fn a_map_value_holding_json_reads_as_in_lake() {
    let sql = "SELECT json_extract_scalar(element_at(MAP {'amount': '{\"value\":1250.5,\"currency\":\"EUR\"}'}, 'amount'), '$.currency')";
    assert_eq!(value(sql).await, s("EUR"));
}
