//! Which scans filter rows while decoding.
//!
//! With a row filter (DataFusion's `pushdown_filters`), the Parquet reader decodes the
//! filter's columns first and then only the selected rows of the others. That pays when the
//! filter keeps a few scattered rows and the query reads other columns: looking up one UID
//! then decodes one page of each of the record's columns instead of all of them. It costs
//! when the filter keeps a share of every page: the reader decodes every page of the other
//! columns anyway, and then also masks them row by row. `errorCode IS NOT NULL` keeps about
//! one row in twenty, and with a row filter the "errors by source" query took half as long
//! again.
//!
//! So the session leaves row filters off, and [`ViewScan`](super::view_strings::ViewScan)
//! turns them on for a scan whose filters look up values ([`looks_up_values`]): a column
//! equal to a constant, in a list of constants, or like a pattern with a fixed start. Other
//! filters (ranges, NULL tests, inequalities) still prune row groups and pages through the
//! Parquet statistics and page index, and are then evaluated on the decoded batches.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::datasource::physical_plan::{FileScanConfig, ParquetSource};
use datafusion::logical_expr::expr::{InList, Like};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

/// True when `filters` (the conjuncts of a scan's filter) pick rows by value: some conjunct
/// compares an expression of the row with `=`, `IN` or a `LIKE` pattern that does not start
/// with a wildcard, against constants.
pub fn looks_up_values(filters: &[Expr]) -> bool {
    filters.iter().any(is_lookup)
}

fn is_lookup(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::Eq => is_constant(left) != is_constant(right),
            Operator::And => is_lookup(left) || is_lookup(right),
            Operator::Or => is_lookup(left) && is_lookup(right),
            _ => false,
        },
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) => !is_constant(expr) && list.iter().all(is_constant),
        Expr::Like(Like {
            negated: false,
            expr,
            pattern,
            ..
        }) => !is_constant(expr) && has_fixed_start(pattern),
        _ => false,
    }
}

fn is_constant(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(value, _) if !value.is_null())
}

fn has_fixed_start(pattern: &Expr) -> bool {
    let Expr::Literal(value, _) = pattern else {
        return false;
    };
    match value {
        ScalarValue::Utf8(Some(p))
        | ScalarValue::Utf8View(Some(p))
        | ScalarValue::LargeUtf8(Some(p)) => !p.is_empty() && !p.starts_with(['%', '_']),
        _ => false,
    }
}

/// Turns the row filter on in `scan`, if it reads Parquet.
pub fn filter_rows_while_decoding(scan: &mut FileScanConfig) {
    if let Some(parquet) = scan.file_source.downcast_ref::<ParquetSource>() {
        let source = parquet
            .clone()
            .with_pushdown_filters(true)
            .with_reorder_filters(true);
        scan.file_source = Arc::new(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn value_lookups_turn_row_filters_on() {
        let uid = col("uid");
        assert!(looks_up_values(&[uid.clone().eq(lit("x"))]));
        assert!(looks_up_values(&[lit("x").eq(uid.clone())]));
        assert!(looks_up_values(&[uid
            .clone()
            .in_list(vec![lit("a"), lit("b")], false)]));
        assert!(looks_up_values(&[uid.clone().like(lit("arn:aws:iam::%"))]));
        assert!(looks_up_values(&[
            col("errorcode").is_not_null(),
            uid.clone().eq(lit("x"))
        ]));
        assert!(looks_up_values(&[uid
            .clone()
            .eq(lit("a"))
            .or(col("eventid").eq(lit("b")))]));
    }

    #[test]
    fn ranges_null_tests_and_open_patterns_do_not() {
        let uid = col("uid");
        assert!(!looks_up_values(&[]));
        assert!(!looks_up_values(&[col("errorcode").is_not_null()]));
        assert!(!looks_up_values(&[
            col("eventtime").gt_eq(lit("2023-01-01"))
        ]));
        assert!(!looks_up_values(&[uid.clone().not_eq(lit("x"))]));
        assert!(!looks_up_values(&[uid
            .clone()
            .in_list(vec![lit("a")], true)]));
        assert!(!looks_up_values(&[uid.clone().like(lit("%x"))]));
        assert!(!looks_up_values(&[uid.clone().eq(col("eventid"))]));
        assert!(!looks_up_values(&[uid
            .clone()
            .eq(lit(ScalarValue::Utf8(None)))]));
        assert!(!looks_up_values(&[uid
            .clone()
            .eq(lit("a"))
            .or(col("errorcode").is_null())]));
    }
}
