//! Reading only the nested fields a query names.
//!
//! DataFusion's Parquet scan reads just the leaves of `eventdata.eventname`, but a path that
//! ends at a map or a struct (`eventdata.requestparameters`, `eventdata.useridentity`) makes it
//! read every leaf of the whole `eventdata` column: the event's uid, every map, every string.
//! The scan does prune a column consumed through a cast to a narrower struct, so this rule
//! routes every field access on such a column through one cast to the struct narrowed to the
//! fields the query uses, read with [`FieldOfNarrowed`] (`get_field` under another name, which
//! DataFusion's scan adapter does not fold back into an access on the whole column). A filter on `element_at(eventData.requestParameters, 'k')` then reads
//! that one map instead of all of `eventdata` (a quarter of the bytes in the benchmark store).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::source::DataSourceExec;
use datafusion::functions::core::getfield::GetFieldFunc;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

/// Rewrites the projections directly above a Parquet scan; runs before DataFusion pushes
/// projections into the scan.
#[derive(Debug, Default)]
pub struct NarrowNestedReads;

impl PhysicalOptimizerRule for NarrowNestedReads {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(projection) = node.downcast_ref::<ProjectionExec>() else {
                return Ok(Transformed::no(node));
            };
            if !projection.input().is::<DataSourceExec>() {
                return Ok(Transformed::no(node));
            }
            match narrow(projection)? {
                Some(narrowed) => Ok(Transformed::yes(
                    Arc::new(narrowed) as Arc<dyn ExecutionPlan>
                )),
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "narrow_nested_reads"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// How a projection uses one input column.
#[derive(Debug, Default)]
pub(super) struct Uses {
    /// Referenced as a whole somewhere (then it is read whole anyway).
    pub(super) whole: bool,
    /// Field paths read from it with `get_field`.
    pub(super) paths: Vec<Vec<String>>,
}

/// The projection with its struct columns narrowed, or `None` when nothing gains from it.
fn narrow(projection: &ProjectionExec) -> Result<Option<ProjectionExec>> {
    let schema = projection.input().schema();
    let read = Arc::new(ScalarUDF::new_from_impl(FieldOfNarrowed::default()));
    let mut uses: BTreeMap<usize, Uses> = BTreeMap::new();
    for p in projection.expr() {
        collect_uses(&p.expr, &mut uses)?;
    }
    let mut narrowed: BTreeMap<usize, DataType> = BTreeMap::new();
    for (index, uses) in &uses {
        if uses.whole || uses.paths.is_empty() {
            continue;
        }
        let full = schema.field(*index).data_type();
        // Leaf paths alone are pruned by the scan already.
        if !uses.paths.iter().any(|p| ends_nested(full, p)) {
            continue;
        }
        if let Some(t) = narrowed_type(full, &uses.paths)
            && &t != full
        {
            narrowed.insert(*index, t);
        }
    }
    if narrowed.is_empty() {
        return Ok(None);
    }
    let exprs = projection
        .expr()
        .iter()
        .map(|p| {
            let expr = Arc::clone(&p.expr)
                .transform_down(|e| route_through_cast(e, &narrowed, &read, &schema))?
                .data;
            Ok(ProjectionExpr {
                expr,
                alias: p.alias.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(ProjectionExec::try_new(
        exprs,
        Arc::clone(projection.input()),
    )?))
}

/// `get_field(column, 'a', 'b', ...)` with literal names: the column and the path.
pub(super) fn field_access(expr: &Arc<dyn PhysicalExpr>) -> Option<(&Column, Vec<String>)> {
    let f = expr.downcast_ref::<ScalarFunctionExpr>()?;
    if f.name() != "get_field" {
        return None;
    }
    let (base, names) = f.args().split_first()?;
    let column = base.downcast_ref::<Column>()?;
    let path = names
        .iter()
        .map(|n| {
            let literal = n.downcast_ref::<Literal>()?;
            literal.value().try_as_str().flatten().map(str::to_string)
        })
        .collect::<Option<Vec<_>>>()?;
    (!path.is_empty()).then_some((column, path))
}

pub(super) fn collect_uses(
    expr: &Arc<dyn PhysicalExpr>,
    uses: &mut BTreeMap<usize, Uses>,
) -> Result<()> {
    expr.apply(|e| {
        if let Some((column, path)) = field_access(e) {
            uses.entry(column.index()).or_default().paths.push(path);
            return Ok(TreeNodeRecursion::Jump);
        }
        if let Some(column) = e.downcast_ref::<Column>() {
            uses.entry(column.index()).or_default().whole = true;
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// Whether `path` into `t` ends at a nested value (a map, list or struct).
fn ends_nested(t: &DataType, path: &[String]) -> bool {
    let mut t = t;
    for name in path {
        match t {
            DataType::Struct(fields) => match fields.find(name) {
                Some((_, f)) => t = f.data_type(),
                None => return false,
            },
            // A key looked up in a map: the map is read whole.
            other => return other.is_nested(),
        }
    }
    t.is_nested()
}

/// `t` keeping only the struct fields on `paths`; a path ends where it stops naming struct
/// fields (a map key, say), and there the value is kept whole.
fn narrowed_type(t: &DataType, paths: &[Vec<String>]) -> Option<DataType> {
    let DataType::Struct(fields) = t else {
        return Some(t.clone());
    };
    if paths.iter().any(|p| p.is_empty()) {
        return Some(t.clone());
    }
    let mut kept = Vec::new();
    for field in fields.iter() {
        let below: Vec<Vec<String>> = paths
            .iter()
            .filter(|p| p[0] == *field.name())
            .map(|p| p[1..].to_vec())
            .collect();
        if below.is_empty() {
            continue;
        }
        let inner = narrowed_type(field.data_type(), &below)?;
        kept.push(Field::clone(field).with_data_type(inner));
    }
    // A path naming no field of the struct: leave the plan as it is.
    if kept.is_empty() {
        return None;
    }
    Some(DataType::Struct(Fields::from(kept)))
}

fn route_through_cast(
    expr: Arc<dyn PhysicalExpr>,
    narrowed: &BTreeMap<usize, DataType>,
    read: &Arc<ScalarUDF>,
    schema: &arrow::datatypes::Schema,
) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
    let Some((column, _)) = field_access(&expr) else {
        return Ok(Transformed::no(expr));
    };
    let Some(target) = narrowed.get(&column.index()) else {
        return Ok(Transformed::no(expr));
    };
    let Some(f) = expr.downcast_ref::<ScalarFunctionExpr>() else {
        return Ok(Transformed::no(expr));
    };
    let mut args: Vec<Arc<dyn PhysicalExpr>> = f.args().to_vec();
    args[0] = Arc::new(CastExpr::new(Arc::clone(&args[0]), target.clone(), None));
    let rewritten = ScalarFunctionExpr::try_new(
        Arc::clone(read),
        args,
        schema,
        Arc::new(f.config_options().clone()),
    )?;
    Ok(Transformed::new(
        Arc::new(rewritten),
        true,
        TreeNodeRecursion::Jump,
    ))
}

/// `get_field` under its own name, for reads of a narrowed struct: DataFusion folds
/// `get_field(CAST(s AS narrower), 'f')` back into `get_field(s, 'f')`, which reads all of `s`.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
struct FieldOfNarrowed {
    inner: GetFieldFunc,
}

impl ScalarUDFImpl for FieldOfNarrowed {
    fn name(&self) -> &str {
        "field_of_narrowed"
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}

#[cfg(test)]
#[path = "narrow_tests.rs"]
mod tests;
