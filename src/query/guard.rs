//! The read-only rule: like CloudTrail Lake, run SELECT and WITH ... SELECT, refuse everything else.

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Query, SetExpr, Statement};

use super::error::QueryError;

/// Accepts a query (SELECT, WITH ... SELECT, set operations, VALUES) and EXPLAIN of one;
/// refuses INSERT, CREATE, COPY, DROP, SET, SELECT INTO and every other statement.
///
/// EXPLAIN goes beyond Lake on purpose: it only reads, and shows whether a time filter
/// reaches the Parquet scan.
pub fn check_read_only(statement: &DfStatement) -> Result<(), QueryError> {
    match statement {
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Query(q) => check_query(q),
            Statement::Explain { statement, .. } => match statement.as_ref() {
                Statement::Query(q) => check_query(q),
                other => Err(QueryError::NotSelect(describe(&other.to_string()))),
            },
            other => Err(QueryError::NotSelect(describe(&other.to_string()))),
        },
        DfStatement::Explain(e) => check_read_only(&e.statement),
        DfStatement::CreateExternalTable(_) => Err(QueryError::NotSelect(
            "a CREATE EXTERNAL TABLE statement".into(),
        )),
        DfStatement::CopyTo(_) => Err(QueryError::NotSelect("a COPY statement".into())),
        DfStatement::Reset(_) => Err(QueryError::NotSelect("a RESET statement".into())),
    }
}

fn check_query(query: &Query) -> Result<(), QueryError> {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            check_query(&cte.query)?;
        }
    }
    check_set_expr(&query.body)
}

fn check_set_expr(body: &SetExpr) -> Result<(), QueryError> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => {
            Err(QueryError::NotSelect("a SELECT ... INTO statement".into()))
        }
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => Ok(()),
        SetExpr::Query(q) => check_query(q),
        SetExpr::SetOperation { left, right, .. } => {
            check_set_expr(left)?;
            check_set_expr(right)
        }
        other => Err(QueryError::NotSelect(describe(&other.to_string()))),
    }
}

/// Statements that change data or settings, by their first word: refused by name even when
/// the rest does not parse (`INSERT INTO <store ID> ...` is not SQL DataFusion can read).
const WRITE_KEYWORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER",
    "TRUNCATE", "COPY", "UNLOAD", "GRANT", "REVOKE", "SET", "RESET", "VACUUM", "CALL",
];

/// The refusal for SQL that did not parse but plainly is not a query.
pub fn refuse_unparsed(sql: &str) -> Option<QueryError> {
    // The first word after comments and blanks.
    let first = super::lexer::tokenize(sql)
        .into_iter()
        .find(|t| !t.is_trivia())?;
    let statement = &sql[first.start..];
    let keyword = first.text(sql).to_ascii_uppercase();
    WRITE_KEYWORDS
        .contains(&keyword.as_str())
        .then(|| QueryError::NotSelect(describe(statement)))
}

/// "an INSERT statement", "a CREATE TABLE statement", from the statement's SQL text.
fn describe(sql: &str) -> String {
    const KINDS: &[&str] = &[
        "TABLE", "VIEW", "SCHEMA", "DATABASE", "FUNCTION", "INDEX", "CATALOG", "ROLE", "USER",
    ];
    let words: Vec<String> = sql
        .split_whitespace()
        .take(5)
        .map(str::to_ascii_uppercase)
        .collect();
    let keyword = match words.first().map(String::as_str) {
        Some(first @ ("CREATE" | "DROP" | "ALTER")) => {
            match words[1..].iter().find(|w| KINDS.contains(&w.as_str())) {
                Some(kind) => format!("{first} {kind}"),
                None => first.to_string(),
            }
        }
        Some(first) => first.to_string(),
        None => "an empty statement".to_string(),
    };
    let article = if keyword.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {keyword} statement")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn check(sql: &str) -> Result<(), QueryError> {
        let mut statements = DFParser::parse_sql(sql).unwrap();
        assert_eq!(statements.len(), 1, "{sql}");
        check_read_only(&statements.pop_front().unwrap())
    }

    #[test]
    fn unparsable_writes_are_refused_by_name() {
        let refused = refuse_unparsed("insert into 1b2-c values (1)").unwrap();
        assert!(
            refused.to_string().contains("an INSERT statement"),
            "{refused}"
        );
        assert!(refuse_unparsed("SELEC x").is_none());
        assert!(refuse_unparsed("-- note\nSELECT 1 FROM").is_none());
        assert!(refuse_unparsed("-- drop old rows\nSELEC x").is_none());
        let refused = refuse_unparsed("/* cleanup */ DELETE FROM 1b2-c").unwrap();
        assert!(
            refused.to_string().contains("a DELETE statement"),
            "{refused}"
        );
    }

    #[test]
    fn queries_pass() {
        for sql in [
            "SELECT 1",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
            "SELECT 1 UNION ALL SELECT 2",
            "(SELECT 1) ORDER BY 1",
            "VALUES (1)",
            "EXPLAIN SELECT 1",
        ] {
            check(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    #[test]
    fn everything_else_is_refused_by_name() {
        for (sql, what) in [
            ("INSERT INTO t VALUES (1)", "an INSERT statement"),
            ("CREATE TABLE t (x INT)", "a CREATE TABLE statement"),
            (
                "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '/tmp/x'",
                "a CREATE EXTERNAL TABLE statement",
            ),
            ("DROP TABLE IF EXISTS t", "a DROP TABLE statement"),
            ("COPY (SELECT 1) TO '/tmp/x.csv'", "a COPY statement"),
            ("SET datafusion.execution.batch_size = 1", "a SET statement"),
            ("SELECT 1 INTO t", "a SELECT ... INTO statement"),
            ("EXPLAIN INSERT INTO t VALUES (1)", "an INSERT statement"),
            ("DELETE FROM t", "a DELETE statement"),
        ] {
            let err = check(sql).expect_err(sql).to_string();
            assert!(err.contains("only SELECT queries are allowed"), "{err}");
            assert!(err.ends_with(&format!("this is {what}")), "{sql}: {err}");
        }
    }
}
