//! The query stage's typed errors: what failed, and on which query, store or parameter.

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;

use crate::catalog::CatalogError;
use crate::store::StoreError;

/// An error of preparing, planning, running or printing a query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// `${name}` placeholders that no `--param name=value` filled.
    #[error(
        "the query uses parameter{} {} but no value was given (pass --param NAME=VALUE)",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(", ")
    )]
    MissingParams(Vec<String>),
    /// `FROM x` / `JOIN x` where `x` looks like an event data store but is none of ours.
    #[error("unknown event data store `{given}` after {keyword}; {known}")]
    UnknownStore {
        keyword: String,
        given: String,
        /// "known event data stores: name (id), ..." or why there are none.
        known: String,
    },
    /// A table name that is neither a store nor another table of the session.
    #[error("no event data store or table is named `{given}`; {known}")]
    UnknownTable {
        given: String,
        /// The stores, and the other tables there are.
        known: String,
    },
    /// A planning error worded here, with what the user can do about it.
    #[error("{0}")]
    Plan(String),
    /// A store that exists but cannot be queried (pending deletion).
    #[error("event data store `{given}` is {status} and cannot be queried")]
    StoreUnavailable { given: String, status: String },
    /// Anything but SELECT / WITH ... SELECT.
    #[error(
        "only SELECT queries are allowed (as in CloudTrail Lake: SELECT or WITH ... SELECT); this is {0}"
    )]
    NotSelect(String),
    /// Parsing, planning or running failed; DataFusion's own message says where.
    /// Said once, without DataFusion's chain of wrappers (see [`datafusion_message`]).
    #[error("{}", datafusion_message(.0))]
    DataFusion(DataFusionError),
    #[error("cannot format the query results: {0}")]
    Arrow(#[from] ArrowError),
    #[error("cannot write the query results: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("cannot read the event store: {0}")]
    Store(#[from] StoreError),
    /// A stored data file whose path DataFusion cannot address.
    #[error("cannot open data file {path}: {message}")]
    DataFile { path: String, message: String },
}

impl From<DataFusionError> for QueryError {
    fn from(e: DataFusionError) -> QueryError {
        QueryError::DataFusion(e)
    }
}

/// DataFusion's message for the innermost error: a parse error as `syntax error: ...`, the
/// rest as DataFusion words them ("Error during planning: ..."), without repeating
/// the wrappers ("SQL error: ParserError(...)", contexts) around them.
pub fn datafusion_message(e: &DataFusionError) -> String {
    use datafusion::sql::sqlparser::parser::ParserError;
    let root = e.find_root();
    match root {
        DataFusionError::SQL(parse, _) => match parse.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
                format!("syntax error: {m}")
            }
            ParserError::RecursionLimitExceeded => {
                "syntax error: the query nests too deeply".to_string()
            }
        },
        DataFusionError::ArrowError(arrow_error, _) => match arrow_error.as_ref() {
            ArrowError::ParseError(m) if m.starts_with("Error parsing timestamp") => format!(
                "{m}; write timestamps as 'yyyy-MM-dd HH:mm:ss' (seconds and a .fff fraction \
                 optional), in UTC"
            ),
            _ => root.to_string(),
        },
        _ => root.to_string(),
    }
}

impl QueryError {
    /// True when the query itself is at fault (as opposed to the store or the output).
    pub fn is_user_error(&self) -> bool {
        match self {
            QueryError::MissingParams(_)
            | QueryError::UnknownStore { .. }
            | QueryError::UnknownTable { .. }
            | QueryError::Plan(_)
            | QueryError::StoreUnavailable { .. }
            | QueryError::NotSelect(_) => true,
            QueryError::DataFusion(e) => match e.find_root() {
                // A literal the query wrote that does not parse or convert, or arithmetic on it.
                DataFusionError::ArrowError(arrow, _) => matches!(
                    arrow.as_ref(),
                    ArrowError::ParseError(_)
                        | ArrowError::CastError(_)
                        | ArrowError::DivideByZero
                        | ArrowError::ArithmeticOverflow(_)
                ),
                root => matches!(
                    root,
                    DataFusionError::SQL(..)
                        | DataFusionError::Plan(_)
                        | DataFusionError::SchemaError(..)
                        | DataFusionError::NotImplemented(_)
                ),
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_said_once() {
        let state = datafusion::prelude::SessionContext::new().state();
        let e = state
            .sql_to_statement("SELEC 1", &datafusion::config::Dialect::Generic)
            .unwrap_err();
        let text = QueryError::from(e).to_string();
        assert!(text.starts_with("syntax error: Expected"), "{text}");
        assert_eq!(text.matches("Expected").count(), 1, "{text}");
    }

    #[test]
    fn missing_params_name_each_placeholder() {
        let one = QueryError::MissingParams(vec!["eds".into()]).to_string();
        assert!(one.contains("parameter ${eds} but"), "{one}");
        let two = QueryError::MissingParams(vec!["a".into(), "b".into()]).to_string();
        assert!(two.contains("parameters ${a}, ${b}"), "{two}");
    }

    #[test]
    fn user_errors_are_told_apart_from_failures() {
        assert!(QueryError::NotSelect("an INSERT statement".into()).is_user_error());
        let plan = DataFusionError::Plan("no such column".into());
        assert!(QueryError::DataFusion(plan).is_user_error());
        let exec = DataFusionError::Execution("disk".into());
        assert!(!QueryError::DataFusion(exec).is_user_error());
        assert!(!QueryError::Io(std::io::Error::other("pipe")).is_user_error());
        let arrow =
            |e: ArrowError| QueryError::DataFusion(DataFusionError::ArrowError(Box::new(e), None));
        let literal = arrow(ArrowError::ParseError(
            "Error parsing timestamp from '2026-13-01 00:00:00': error parsing date".into(),
        ));
        assert!(literal.is_user_error());
        assert_eq!(
            literal.to_string(),
            "Error parsing timestamp from '2026-13-01 00:00:00': error parsing date; write \
             timestamps as 'yyyy-MM-dd HH:mm:ss' (seconds and a .fff fraction optional), in UTC"
        );
        assert!(
            !arrow(ArrowError::IoError(
                "disk".into(),
                std::io::Error::other("disk")
            ))
            .is_user_error()
        );
    }
}
