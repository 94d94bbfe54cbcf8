//! `map['key']` read through [`element_at`](super::element_at) rather than `get_field`.
//!
//! DataFusion plans `eventData.requestParameters['key']` as one
//! `get_field(eventdata, 'requestparameters', 'key')`, and its Parquet scan then treats the
//! whole path as struct fields, which fails for the map step ("PhysicalExpr Column
//! references column ... but input schema only has 0 columns"). This rewrite splits such
//! paths at each map: struct steps stay `get_field` (still pushed into the scan), a map step
//! becomes `element_at(map, key)`, with Lake's NULL for a missing key.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{Expr, ExprSchemable, ScalarUDF};

/// The analyzer rewrite; `element_at` is the session's Lake `element_at`.
#[derive(Debug)]
pub struct MapSubscript {
    pub element_at: Arc<ScalarUDF>,
}

fn literal_key(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)), _) => Some(s),
        _ => None,
    }
}

fn get_field(base: Expr, fields: &[Expr], func: &ScalarFunction) -> Expr {
    if fields.is_empty() {
        return base;
    }
    let mut args = vec![base];
    args.extend_from_slice(fields);
    Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(&func.func), args))
}

impl FunctionRewrite for MapSubscript {
    fn name(&self) -> &str {
        "lake_map_subscript"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _config: &ConfigOptions,
    ) -> Result<Transformed<Expr>> {
        let Expr::ScalarFunction(func) = &expr else {
            return Ok(Transformed::no(expr));
        };
        if func.func.name() != "get_field" || func.args.len() < 2 {
            return Ok(Transformed::no(expr));
        }
        // The first step whose container is a map, if any.
        let mut data_type = func.args[0].get_type(schema)?;
        let mut map_step = None;
        for (i, arg) in func.args.iter().enumerate().skip(1) {
            match (&data_type, literal_key(arg)) {
                (DataType::Map(entries, _), _) => {
                    map_step = Some((i, entries.data_type().clone()));
                    break;
                }
                (DataType::Struct(fields), Some(name)) => {
                    match fields.iter().find(|f| f.name() == name) {
                        Some(field) => data_type = field.data_type().clone(),
                        None => return Ok(Transformed::no(expr)),
                    }
                }
                _ => return Ok(Transformed::no(expr)),
            }
        }
        let Some((i, _)) = map_step else {
            return Ok(Transformed::no(expr));
        };
        let map = get_field(func.args[0].clone(), &func.args[1..i], func);
        let value = Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::clone(&self.element_at),
            vec![map, func.args[i].clone()],
        ));
        // Map values are strings in the record schemas, so nothing follows in practice.
        let rest = get_field(value, &func.args[i + 1..], func);
        Ok(Transformed::yes(rest))
    }
}
