//! Result column names as Lake (Trino) gives them.
//!
//! An unaliased expression is named `_col` and its position in the select list (`_col0`,
//! `_col1`, ...); a column is named by itself, and a dot path by its last field
//! (`eventData.eventName` is `eventname`). DataFusion would otherwise name them after the
//! expression's text (`count(*)`, `events.eventdata[eventname]`), which breaks scripts that
//! read Lake's results by column name.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, Ident, Query, SelectItem, SetExpr, Statement, Subscript, Value, VisitMut,
    VisitorMut,
};

/// Gives every unaliased select item of `statement` (its subqueries included) Lake's name.
/// `field_accesses` are where the `'field'` subscripts that stand for Lake's `.field` start
/// (line, column): those name their item after the field, where a subscript written as
/// such (`m['key']`) leaves it a position name, as in Trino.
pub fn name_columns(statement: &mut DfStatement, field_accesses: &[(u64, u64)]) {
    if let DfStatement::Statement(s) = statement
        && let Statement::Query(_) = s.as_mut()
    {
        let _ = s.visit(&mut Namer { field_accesses });
    }
}

struct Namer<'a> {
    field_accesses: &'a [(u64, u64)],
}

impl VisitorMut for Namer<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_set_expr(&mut query.body, self.field_accesses);
        ControlFlow::Continue(())
    }
}

fn name_set_expr(body: &mut SetExpr, field_accesses: &[(u64, u64)]) {
    match body {
        SetExpr::Select(select) => name_items(&mut select.projection, field_accesses),
        SetExpr::SetOperation { left, right, .. } => {
            name_set_expr(left, field_accesses);
            name_set_expr(right, field_accesses);
        }
        // Nested queries are visited on their own.
        _ => {}
    }
}

fn name_items(items: &mut [SelectItem], field_accesses: &[(u64, u64)]) {
    let mut taken: HashSet<String> = items
        .iter()
        .filter_map(|item| match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(ident.value.to_lowercase()),
            _ => None,
        })
        .collect();
    for (position, item) in items.iter_mut().enumerate() {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        let name = match expr {
            Expr::Identifier(_) => continue,
            Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.to_lowercase()),
            // `resources[1].arn`, `element_at(x, 1).arn`: Lake SQL's `.field` after a subscript
            // or a call arrives here as `['field']` (see `rewrite_field_access`).
            Expr::CompoundFieldAccess { access_chain, .. } => {
                last_field(access_chain, field_accesses)
            }
            _ => None,
        };
        let name = match name {
            Some(name) if taken.insert(name.clone()) => name,
            // Two paths ending in the same field: the later one gets a position name.
            _ => format!("_col{position}"),
        };
        let expr = std::mem::replace(
            expr,
            Expr::value(datafusion::sql::sqlparser::ast::Value::Null),
        );
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: Ident::with_quote('"', name),
        };
    }
}

/// The field a chain of accesses ends in, when its last step is `.field` or a `['field']`
/// that stands for one (it starts at one of `field_accesses`).
fn last_field(chain: &[AccessExpr], field_accesses: &[(u64, u64)]) -> Option<String> {
    match chain.last()? {
        AccessExpr::Dot(Expr::Identifier(ident)) => Some(ident.value.to_lowercase()),
        AccessExpr::Subscript(Subscript::Index {
            index: Expr::Value(v),
        }) => match &v.value {
            Value::SingleQuotedString(field)
                if field_accesses.contains(&(v.span.start.line, v.span.start.column)) =>
            {
                Some(field.to_lowercase())
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::config::Dialect;
    use datafusion::prelude::SessionContext;

    use super::*;

    fn named(sql: &str) -> String {
        let state = SessionContext::new().state();
        let mut statement = state.sql_to_statement(sql, &Dialect::Generic).unwrap();
        name_columns(&mut statement, &[]);
        statement.to_string()
    }

    #[test]
    fn unaliased_expressions_are_named_by_position() {
        assert_eq!(
            named("SELECT eventname, count(*), max(x) AS m FROM t GROUP BY 1"),
            "SELECT eventname, count(*) AS \"_col1\", max(x) AS m FROM t GROUP BY 1"
        );
    }

    #[test]
    fn dot_paths_take_their_last_field() {
        assert_eq!(
            named("SELECT eventData.eventName, e.userIdentity.type FROM t AS e"),
            "SELECT eventData.eventName AS \"eventname\", e.userIdentity.type AS \"type\" \
             FROM t AS e"
        );
        // A column of the same name keeps it; the path is named by position.
        assert_eq!(
            named("SELECT eventData.eventName, eventName FROM t"),
            "SELECT eventData.eventName AS \"_col0\", eventName FROM t"
        );
    }

    #[test]
    fn clashing_paths_and_subqueries_and_unions() {
        assert_eq!(
            named("SELECT a.x, b.x FROM (SELECT 1 + 1 FROM u) UNION SELECT lower(y), 2"),
            "SELECT a.x AS \"x\", b.x AS \"_col1\" FROM (SELECT 1 + 1 AS \"_col0\" FROM u) \
             UNION SELECT lower(y) AS \"_col0\", 2 AS \"_col1\""
        );
    }

    #[test]
    fn a_subscript_is_named_after_its_field_only_where_it_stands_for_a_dot() {
        let sql = "SELECT r[1]['arn'], m['key']\nFROM t";
        let state = SessionContext::new().state();
        let mut statement = state.sql_to_statement(sql, &Dialect::Generic).unwrap();
        // The first subscript's 'arn' starts at line 1, column 13.
        name_columns(&mut statement, &[(1, 13)]);
        assert_eq!(
            statement.to_string(),
            "SELECT r[1]['arn'] AS \"arn\", m['key'] AS \"_col1\" FROM t"
        );
    }

    #[test]
    fn statements_other_than_queries_are_left_alone() {
        assert_eq!(
            named("EXPLAIN SELECT count(*) FROM t"),
            "EXPLAIN SELECT count(*) FROM t"
        );
    }
}
