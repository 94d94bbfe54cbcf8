//! Group keys read as dictionaries.
//!
//! The store writes its short repeating strings (event name, source, principal, address)
//! dictionary-encoded, and a column chunk of a few thousand rows holds a few hundred or a few
//! thousand distinct values. Read as views, every row of such a column becomes a 16-byte view
//! that [`super::view_keys`] then numbers by hashing it. Read as an Arrow dictionary, a row
//! is just its index into the chunk's dictionary: the reader skips building the views, and
//! the group table looks each dictionary entry up once and then indexes by row.
//!
//! [`read_keys_as_dictionaries`] gives a partial aggregate of
//! [`super::view_groups::ViewGroupAggregateExec`] an input that reads its string keys so. The
//! type changes only between the scan and that aggregate, whose output keeps `Utf8View`: it
//! applies to a key that the plan in between passes through untouched (filters and
//! projections that do not look at it, or only test it for null) and that the scan reads
//! from a leaf no other expression of the scan reads but to test it for null. Anything else
//! (a key the aggregates also take as an argument, a filter comparing it, a file read
//! without its schema given) keeps the plan as DataFusion made it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{
    Column, DynamicFilterPhysicalExpr, IsNotNullExpr, IsNullExpr,
};
use datafusion::physical_expr::projection::{ProjectionExpr, ProjectionExprs};
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_plan::aggregates::{AggregateExec, aggregate_expressions};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, ExecutionPlan, Partitioning, PhysicalExpr, ReplaceChildrenOptions,
};

use super::narrow::{Uses, collect_uses, field_access};

/// The input of `aggregate` with its string keys read as dictionaries, or `None` when no key
/// can be. Only group keys that are plain columns, and not also arguments or filters of the
/// aggregates, are candidates.
pub(super) fn read_keys_as_dictionaries(
    aggregate: &AggregateExec,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let mut keys = BTreeSet::new();
    for (expr, _) in aggregate.group_expr().expr() {
        if let Some(column) = expr.downcast_ref::<Column>() {
            keys.insert(column.index());
        }
    }
    let mut others = BTreeSet::new();
    let arguments = aggregate_expressions(aggregate.aggr_expr(), aggregate.mode(), 0)?;
    for expr in arguments.iter().flatten() {
        referenced_columns(expr, &mut others);
    }
    for expr in aggregate.filter_expr().iter().flatten() {
        referenced_columns(expr, &mut others);
    }
    let keys: BTreeSet<usize> = keys.difference(&others).copied().collect();
    if keys.is_empty() {
        return Ok(None);
    }
    rewrite(aggregate.input(), &keys, &BTreeSet::new())
}

/// `plan` with some of its output columns `keys` read as dictionaries, and no other output
/// column changed but those of `null_tested` (whose only use above is a test for null, which
/// holds whatever their type); `None` when no key can be.
fn rewrite(
    plan: &Arc<dyn ExecutionPlan>,
    keys: &BTreeSet<usize>,
    null_tested: &BTreeSet<usize>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let mut used = BTreeSet::new();
    let (input_keys, input_null_tested) = if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        let mut tested = BTreeSet::new();
        null_tests(filter.predicate(), &mut tested, &mut used);
        let below = |column: &usize| match filter.projection() {
            Some(projection) => projection[*column],
            None => *column,
        };
        tested.extend(null_tested.iter().map(below));
        (keys.iter().map(below).collect(), tested)
    } else if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        // Keys and null-tested columns passed through as bare columns.
        let (mut passed, mut tested) = (BTreeSet::new(), BTreeSet::new());
        for (index, p) in projection.expr().iter().enumerate() {
            match p.expr.downcast_ref::<Column>() {
                Some(column) if keys.contains(&index) => {
                    passed.insert(column.index());
                }
                Some(column) if null_tested.contains(&index) => {
                    tested.insert(column.index());
                }
                _ => referenced_columns(&p.expr, &mut used),
            }
        }
        (passed, tested)
    } else if let Some(repartition) = plan.downcast_ref::<RepartitionExec>() {
        if let Partitioning::Hash(exprs, _) = repartition.partitioning() {
            exprs.iter().for_each(|e| referenced_columns(e, &mut used));
        }
        (keys.clone(), null_tested.clone())
    } else {
        return read_leaves_as_dictionaries(plan, keys, null_tested);
    };
    let input_keys: BTreeSet<usize> = input_keys.difference(&used).copied().collect();
    let input_null_tested: BTreeSet<usize> = input_null_tested
        .difference(&used)
        .filter(|c| !input_keys.contains(c))
        .copied()
        .collect();
    let [input] = plan.children()[..] else {
        return Ok(None);
    };
    if input_keys.is_empty() {
        return Ok(None);
    }
    match rewrite(input, &input_keys, &input_null_tested)? {
        Some(input) => Ok(Some(Arc::clone(plan).replace_children(
            vec![input],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?)),
        None => Ok(None),
    }
}

/// Adds to `tested` the columns `expr` only tests for null (`column IS [NOT] NULL`), and to
/// `used` every column it references otherwise.
fn null_tests(
    expr: &Arc<dyn PhysicalExpr>,
    tested: &mut BTreeSet<usize>,
    used: &mut BTreeSet<usize>,
) {
    let _ = expr.apply(
        |e| match null_tested_arg(e).and_then(|arg| arg.downcast_ref::<Column>()) {
            Some(column) => {
                tested.insert(column.index());
                Ok(TreeNodeRecursion::Jump)
            }
            None => {
                if let Some(column) = e.downcast_ref::<Column>() {
                    used.insert(column.index());
                }
                Ok(TreeNodeRecursion::Continue)
            }
        },
    );
    tested.retain(|c| !used.contains(c));
}

/// The argument of `expr` when it is `arg IS NULL` or `arg IS NOT NULL`.
fn null_tested_arg(expr: &Arc<dyn PhysicalExpr>) -> Option<&Arc<dyn PhysicalExpr>> {
    if let Some(test) = expr.downcast_ref::<IsNullExpr>() {
        return Some(test.arg());
    }
    expr.downcast_ref::<IsNotNullExpr>().map(|test| test.arg())
}

/// The Parquet scan `plan` with those of its output columns `keys` that read a string leaf
/// of the table (`eventdata.eventname`, or a top-level string) read it as a dictionary.
fn read_leaves_as_dictionaries(
    plan: &Arc<dyn ExecutionPlan>,
    keys: &BTreeSet<usize>,
    null_tested: &BTreeSet<usize>,
) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(scan) = plan
        .downcast_ref::<DataSourceExec>()
        .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
    else {
        return Ok(None);
    };
    let Some(parquet) = scan.file_source.downcast_ref::<ParquetSource>() else {
        return Ok(None);
    };
    let table = parquet.table_schema();
    let file_schema = Arc::clone(table.file_schema());
    let Some(projection) = parquet.projection() else {
        return Ok(None);
    };
    // The leaves the keys read, and how every other expression of the scan uses the columns.
    let mut leaves: BTreeMap<usize, Vec<Vec<String>>> = BTreeMap::new();
    let mut others: BTreeMap<usize, Uses> = BTreeMap::new();
    for (index, p) in projection.iter().enumerate() {
        let read = field_access(&p.expr).is_some() || p.expr.is::<Column>();
        match keys
            .contains(&index)
            .then(|| string_leaf(&p.expr, &file_schema))
            .flatten()
        {
            Some((column, path)) => leaves.entry(column).or_default().push(path),
            // Only tested for null above: it may change type.
            None if read && null_tested.contains(&index) => {}
            None => collect_uses(&p.expr, &mut others)?,
        }
    }
    // The scan's own filter may test a leaf for null too; it is then typed anew. One that
    // another operator updates while the query runs (a dynamic filter) is left as it is, so
    // it must not read a leaf that changes.
    let predicate = parquet.filter();
    let mut retype_predicate = false;
    if let Some(predicate) = &predicate {
        match is_dynamic(predicate) {
            true => collect_uses(predicate, &mut others)?,
            false => {
                collect_uses_but_null_tests(predicate, &mut others)?;
                retype_predicate = true;
            }
        }
    }
    for (column, paths) in &mut leaves {
        if let Some(uses) = others.get(column) {
            paths.retain(|path| {
                !uses.whole
                    && !uses
                        .paths
                        .iter()
                        .any(|p| p.starts_with(path) || path.starts_with(p))
            });
        }
    }
    leaves.retain(|_, paths| !paths.is_empty());
    if leaves.is_empty() {
        return Ok(None);
    }

    // Every file must say how it is read, so that the same leaves change in each. The files
    // of a store share one schema, changed once.
    let mut changed: Vec<(SchemaRef, SchemaRef)> = Vec::new();
    let mut file_groups = scan.file_groups.clone();
    for group in &mut file_groups {
        let mut files = std::mem::take(group).into_inner();
        for file in &mut files {
            let Some(schema) = &file.arrow_schema else {
                return Ok(None);
            };
            let new = match changed.iter().find(|(old, _)| Arc::ptr_eq(old, schema)) {
                Some((_, new)) => Arc::clone(new),
                None => {
                    let new = with_dictionary_leaves(schema, &leaves);
                    changed.push((Arc::clone(schema), Arc::clone(&new)));
                    new
                }
            };
            file.arrow_schema = Some(new);
        }
        *group = files.into();
    }
    let file_schema = with_dictionary_leaves(&file_schema, &leaves);
    let full_schema = Schema::new(
        file_schema
            .fields()
            .iter()
            .chain(table.table_partition_cols().iter())
            .cloned()
            .collect::<Fields>(),
    );
    let exprs = projection
        .iter()
        .map(|p| {
            Ok(ProjectionExpr {
                expr: retyped(&p.expr, &full_schema)?,
                alias: p.alias.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let options = parquet.table_parquet_options().clone();
    let hint = options.global.metadata_size_hint;
    let table = TableSchema::builder(file_schema)
        .with_table_partition_cols(table.table_partition_cols().to_vec())
        .build();
    let mut source = ParquetSource::new(table).with_table_parquet_options(options);
    if let Some(hint) = hint {
        source = source.with_metadata_size_hint(hint);
    }
    if let Some(factory) = parquet.parquet_file_reader_factory() {
        source = source.with_parquet_file_reader_factory(Arc::clone(factory));
    }
    if let Some(predicate) = predicate {
        source = source.with_predicate(match retype_predicate {
            true => retyped(&predicate, &full_schema)?,
            false => predicate,
        });
    }
    let Some(source) = source.try_pushdown_projection(&ProjectionExprs::new(exprs))? else {
        return Ok(None);
    };
    let mut scan = scan.clone();
    scan.file_source = source;
    scan.file_groups = file_groups;
    Ok(Some(DataSourceExec::from_data_source(scan)))
}

/// The column and field path of `expr` when it reads a `Utf8View` leaf of `schema`.
fn string_leaf(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<(usize, Vec<String>)> {
    let (column, path) = match field_access(expr) {
        Some((column, path)) => (column.index(), path),
        None => (expr.downcast_ref::<Column>()?.index(), Vec::new()),
    };
    let mut t = schema.fields().get(column)?.data_type();
    for name in &path {
        let DataType::Struct(fields) = t else {
            return None;
        };
        t = fields.find(name)?.1.data_type();
    }
    (*t == DataType::Utf8View).then_some((column, path))
}

/// `schema` with the `Utf8View` leaves at `leaves` (by column, the field paths) read as
/// dictionaries of `Utf8`.
fn with_dictionary_leaves(
    schema: &SchemaRef,
    leaves: &BTreeMap<usize, Vec<Vec<String>>>,
) -> SchemaRef {
    let fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(index, field)| match leaves.get(&index) {
            Some(paths) => dictionary_leaves(field, paths, 0),
            None => Arc::clone(field),
        })
        .collect::<Fields>();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn dictionary_leaves(field: &FieldRef, paths: &[Vec<String>], depth: usize) -> FieldRef {
    let data_type = match field.data_type() {
        DataType::Utf8View if paths.iter().any(|p| p.len() == depth) => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        DataType::Struct(children) => DataType::Struct(
            children
                .iter()
                .map(|child| {
                    let below: Vec<Vec<String>> = paths
                        .iter()
                        .filter(|p| p.len() > depth && p[depth] == *child.name())
                        .cloned()
                        .collect();
                    match below.is_empty() {
                        true => Arc::clone(child),
                        false => dictionary_leaves(child, &below, depth + 1),
                    }
                })
                .collect(),
        ),
        _ => return Arc::clone(field),
    };
    Arc::new(Field::clone(field).with_data_type(data_type))
}

/// `expr` with its field accesses typed anew against `schema`.
fn retyped(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Result<Arc<dyn PhysicalExpr>> {
    Arc::clone(expr)
        .transform_up(|e| {
            let Some(f) = e.downcast_ref::<ScalarFunctionExpr>() else {
                return Ok(Transformed::no(e));
            };
            if f.name() != "get_field" {
                return Ok(Transformed::no(e));
            }
            let typed = ScalarFunctionExpr::try_new(
                Arc::new(f.fun().clone()),
                f.args().to_vec(),
                schema,
                Arc::new(f.config_options().clone()),
            )?;
            Ok(Transformed::yes(Arc::new(typed) as Arc<dyn PhysicalExpr>))
        })
        .map(|t| t.data)
}

/// Whether `expr` holds a filter that changes while the query runs.
fn is_dynamic(expr: &Arc<dyn PhysicalExpr>) -> bool {
    let mut dynamic = false;
    let _ = expr.apply(|e| {
        dynamic |= e.is::<DynamicFilterPhysicalExpr>();
        Ok(TreeNodeRecursion::Continue)
    });
    dynamic
}

/// [`collect_uses`] of `expr`, leaving out the fields and columns it only tests for null.
fn collect_uses_but_null_tests(
    expr: &Arc<dyn PhysicalExpr>,
    uses: &mut BTreeMap<usize, Uses>,
) -> Result<()> {
    expr.apply(|e| {
        if let Some(arg) = null_tested_arg(e)
            && (field_access(arg).is_some() || arg.is::<Column>())
        {
            return Ok(TreeNodeRecursion::Jump);
        }
        if field_access(e).is_some() || e.is::<Column>() {
            collect_uses(e, uses)?;
            return Ok(TreeNodeRecursion::Jump);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// Adds the index of every column `expr` references to `columns`.
fn referenced_columns(expr: &Arc<dyn PhysicalExpr>, columns: &mut BTreeSet<usize>) {
    columns.extend(collect_columns(expr).iter().map(Column::index));
}
