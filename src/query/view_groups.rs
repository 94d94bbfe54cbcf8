//! Grouping by strings, one distinct view at a time.
//!
//! The group keys of audit queries are nearly always strings of the `eventdata` struct
//! (event name, source, error code, principal, address), read as `Utf8View`
//! ([`super::view_strings`]). DataFusion's partial aggregation hashes and compares every row's
//! string to find its group; on the benchmark that is most of the time of counts by event
//! name.
//!
//! Parquet stores those columns dictionary-encoded, and the reader turns every occurrence of
//! one dictionary entry into the very same 16-byte view. Within one array, equal views always
//! hold equal strings (a view is the string itself when short, its place in the array's
//! buffers when long). So [`ViewGroupAggregateExec`] first numbers each batch's distinct views,
//! comparing 16-byte integers, and hands only one row per distinct key to DataFusion's group
//! table; the other rows take that row's group. Two views of one string (the same value in
//! two row groups, or a column the writer did not dictionary-encode) just reach the group
//! table twice and land in the same group, so the result is DataFusion's, row for row.
//!
//! [`GroupByViews`] puts it in place of the partial aggregates it can stand for: one plain
//! grouping over `Utf8View` keys, aggregates with a groups accumulator and no ORDER BY of
//! their own, and no limit or dynamic filter attached. As DataFusion's own partial aggregate
//! does, it stops aggregating across batches once the groups outnumber most of the rows seen.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::aggregates::{
    AggregateExec, AggregateMode, aggregate_expressions, evaluate_many,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::udaf::AggregateFunctionExpr;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode,
    PhysicalExpr, PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::StreamExt;

/// Replaces partial aggregates grouped by `Utf8View` keys with [`ViewGroupAggregateExec`].
/// Runs last, once DataFusion's own rules have shaped the aggregates.
#[derive(Debug, Default)]
pub struct GroupByViews;

impl PhysicalOptimizerRule for GroupByViews {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let skip = SkipProbe {
            rows: config
                .execution
                .skip_partial_aggregation_probe_rows_threshold,
            ratio: config
                .execution
                .skip_partial_aggregation_probe_ratio_threshold,
        };
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            if !replaceable(aggregate)? {
                return Ok(Transformed::no(node));
            }
            let exec = ViewGroupAggregateExec {
                aggregate: Arc::new(aggregate.clone()),
                skip,
                metrics: ExecutionPlanMetricsSet::new(),
            };
            Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "group_by_views"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `aggregate` is a partial aggregate that [`ViewGroupAggregateExec`] computes alike.
fn replaceable(aggregate: &AggregateExec) -> Result<bool> {
    let group_by = aggregate.group_expr();
    if *aggregate.mode() != AggregateMode::Partial
        || !group_by.is_single()
        || group_by.expr().is_empty()
        || aggregate.limit_options().is_some()
        || !aggregate.dynamic_expressions_produced().is_empty()
        || *aggregate.input_order_mode() != InputOrderMode::Linear
    {
        return Ok(false);
    }
    let input = aggregate.input_schema();
    for (expr, _) in group_by.expr() {
        if expr.data_type(&input)? != DataType::Utf8View {
            return Ok(false);
        }
    }
    Ok(aggregate
        .aggr_expr()
        .iter()
        .all(|a| a.order_bys().is_empty() && a.groups_accumulator_supported()))
}

/// When partial aggregation stops paying: after `rows` input rows, groups above `ratio` of them.
#[derive(Debug, Clone, Copy)]
struct SkipProbe {
    rows: usize,
    ratio: f64,
}

/// A partial aggregate over `Utf8View` group keys that sends the group table one row per
/// distinct view per batch. Its plan, schema and output are those of `aggregate`.
#[derive(Debug)]
pub struct ViewGroupAggregateExec {
    aggregate: Arc<AggregateExec>,
    skip: SkipProbe,
    metrics: ExecutionPlanMetricsSet,
}

impl DisplayAs for ViewGroupAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "ViewGroup")?;
        self.aggregate.fmt_as(t, f)
    }
}

impl ExecutionPlan for ViewGroupAggregateExec {
    fn name(&self) -> &'static str {
        "ViewGroupAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.aggregate.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.aggregate.input()]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let aggregate = Arc::clone(&self.aggregate).replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?;
        let Some(aggregate) = aggregate.downcast_ref::<AggregateExec>() else {
            return internal_err!("an aggregate with new children is no longer an aggregate");
        };
        Ok(Arc::new(ViewGroupAggregateExec {
            aggregate: Arc::new(aggregate.clone()),
            skip: self.skip,
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.aggregate.apply_expressions(f)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self
            .aggregate
            .input()
            .execute(partition, Arc::clone(&context))?;
        let grouper = Grouper::new(
            &self.aggregate,
            self.skip,
            context.session_config().batch_size(),
            BaselineMetrics::new(&self.metrics, partition),
        )?;
        let schema = self.aggregate.schema();
        let run = Run {
            input: Some(input),
            grouper,
            pending: VecDeque::new(),
        };
        let stream = futures::stream::unfold(run, Run::next);
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One partition's aggregation: its input, its state and the batches ready to hand out.
struct Run {
    input: Option<SendableRecordBatchStream>,
    grouper: Grouper,
    pending: VecDeque<RecordBatch>,
}

impl Run {
    async fn next(mut self) -> Option<(Result<RecordBatch>, Run)> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                self.grouper.metrics.record_output(batch.num_rows());
                return Some((Ok(batch), self));
            }
            let input = self.input.as_mut()?;
            let step = match input.next().await {
                Some(Ok(batch)) => self.grouper.push(&batch, &mut self.pending),
                Some(Err(e)) => Err(e),
                None => {
                    self.input = None;
                    self.grouper.finish(&mut self.pending)
                }
            };
            if let Err(e) = step {
                self.input = None;
                self.pending.clear();
                return Some((Err(e), self));
            }
        }
    }
}

/// The partial aggregate's state: group table, accumulators and per-batch scratch space.
struct Grouper {
    group_exprs: Vec<Arc<dyn PhysicalExpr>>,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    filters: Vec<Option<Arc<dyn PhysicalExpr>>>,
    aggregates: Vec<Arc<AggregateFunctionExpr>>,
    group_schema: SchemaRef,
    schema: SchemaRef,
    groups: Box<dyn GroupValues>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    keys: LocalKeys,
    group_indices: Vec<usize>,
    skip: SkipProbe,
    /// Rows aggregated so far; `None` once aggregation is batch by batch.
    rows_seen: Option<usize>,
    batch_size: usize,
    metrics: BaselineMetrics,
}

impl Grouper {
    fn new(
        aggregate: &AggregateExec,
        skip: SkipProbe,
        batch_size: usize,
        metrics: BaselineMetrics,
    ) -> Result<Grouper> {
        let group_schema = aggregate
            .group_expr()
            .group_schema(&aggregate.input_schema())?;
        let aggregates = aggregate.aggr_expr().to_vec();
        Ok(Grouper {
            group_exprs: aggregate
                .group_expr()
                .expr()
                .iter()
                .map(|(e, _)| Arc::clone(e))
                .collect(),
            arguments: aggregate_expressions(&aggregates, aggregate.mode(), 0)?,
            filters: aggregate.filter_expr().to_vec(),
            groups: new_group_values(Arc::clone(&group_schema), &GroupOrdering::None)?,
            accumulators: accumulators(&aggregates)?,
            aggregates,
            group_schema,
            schema: aggregate.schema(),
            keys: LocalKeys::default(),
            group_indices: Vec::new(),
            skip,
            rows_seen: Some(0),
            batch_size: batch_size.max(1),
            metrics,
        })
    }

    fn push(&mut self, batch: &RecordBatch, out: &mut VecDeque<RecordBatch>) -> Result<()> {
        let elapsed = self.metrics.elapsed_compute().clone();
        let _timer = elapsed.timer();
        let keys = self
            .group_exprs
            .iter()
            .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        let Some(firsts) = self.keys.number(&keys)? else {
            return Ok(());
        };
        // One row per distinct key goes to the group table; every row takes its key's group.
        let firsts = UInt32Array::from(firsts.to_vec());
        let distinct = keys
            .iter()
            .map(|k| take(k, &firsts, None))
            .collect::<Result<Vec<_>, _>>()?;
        let mut key_groups = Vec::new();
        self.groups.intern(&distinct, &mut key_groups)?;
        self.group_indices.clear();
        self.group_indices
            .extend(self.keys.ids.iter().map(|&id| key_groups[id as usize]));
        let total = self.groups.len();
        let arguments = evaluate_many(&self.arguments, batch)?;
        for ((accumulator, values), filter) in self
            .accumulators
            .iter_mut()
            .zip(&arguments)
            .zip(&self.filters)
        {
            let filter = filter
                .as_ref()
                .map(|f| f.evaluate(batch)?.into_array(batch.num_rows()))
                .transpose()?;
            let filter: Option<&BooleanArray> = filter.as_ref().map(|f| f.as_boolean());
            accumulator.update_batch(values, &self.group_indices, filter, total)?;
        }
        match &mut self.rows_seen {
            Some(seen) => {
                *seen += batch.num_rows();
                if *seen >= self.skip.rows && total as f64 > self.skip.ratio * *seen as f64 {
                    // Nearly every row is its own group: aggregating on only delays the rows.
                    self.rows_seen = None;
                    self.emit(out)?;
                }
            }
            None => self.emit(out)?,
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut VecDeque<RecordBatch>) -> Result<()> {
        let elapsed = self.metrics.elapsed_compute().clone();
        let _timer = elapsed.timer();
        self.emit(out)
    }

    /// Hands out every group with its partial states, then starts empty.
    fn emit(&mut self, out: &mut VecDeque<RecordBatch>) -> Result<()> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let mut columns = self.groups.emit(EmitTo::All)?;
        for accumulator in &mut self.accumulators {
            columns.extend(accumulator.state(EmitTo::All)?);
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = self.batch_size.min(batch.num_rows() - offset);
            out.push_back(batch.slice(offset, len));
            offset += len;
        }
        self.groups = new_group_values(Arc::clone(&self.group_schema), &GroupOrdering::None)?;
        self.accumulators = accumulators(&self.aggregates)?;
        Ok(())
    }
}

fn accumulators(
    aggregates: &[Arc<AggregateFunctionExpr>],
) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
    aggregates
        .iter()
        .map(|a| a.create_groups_accumulator())
        .collect()
}

/// Numbers the distinct keys of one batch: rows whose key columns hold the same views (or
/// nulls) get the same id.
#[derive(Default)]
struct LocalKeys {
    /// Each row's key id.
    ids: Vec<u32>,
    /// The first row of each key id.
    firsts: Vec<u32>,
    /// The ids of the columns before, while the next column is numbered.
    before: Vec<u32>,
    table: KeyIds,
}

impl LocalKeys {
    /// Numbers the rows of `keys` (`Utf8View` columns of one batch); returns the first row of
    /// each distinct key, or `None` for an empty batch.
    fn number(&mut self, keys: &[ArrayRef]) -> Result<Option<&[u32]>> {
        let rows = keys.first().map_or(0, |k| k.len());
        if rows == 0 {
            return Ok(None);
        }
        if rows >= NULL_KEY as usize {
            return internal_err!("a batch of {rows} rows is too long to group");
        }
        for (i, column) in keys.iter().enumerate() {
            // A row's key so far is (the id of its earlier columns, this column's view).
            std::mem::swap(&mut self.ids, &mut self.before);
            let before = (i > 0).then_some(self.before.as_slice());
            number_column(
                column,
                before,
                &mut self.table,
                &mut self.ids,
                &mut self.firsts,
            )?;
        }
        Ok(Some(&self.firsts))
    }
}

/// Marks a null in a key: the view of a null is not a value.
const NULL_KEY: u32 = 1 << 31;

/// Numbers the rows of `column`, each keyed by its view and its id in `before` (the columns
/// to its left, if any), into `ids`, with each id's first row in `firsts`.
fn number_column(
    column: &ArrayRef,
    before: Option<&[u32]>,
    table: &mut KeyIds,
    ids: &mut Vec<u32>,
    firsts: &mut Vec<u32>,
) -> Result<()> {
    let Some(strings) = column.as_string_view_opt() else {
        return internal_err!("a group key is {}, not Utf8View", column.data_type());
    };
    firsts.clear();
    table.clear();
    let views = strings.views();
    ids.clear();
    ids.resize(views.len(), 0);
    let nulls = strings.logical_nulls().filter(|n| n.null_count() > 0);
    // The loops stay small: a row's key, its hash and one probe; new keys are rare.
    match (before, &nulls) {
        (None, None) => {
            for (row, (&view, id)) in views.iter().zip(ids.iter_mut()).enumerate() {
                *id = table.id((0, view), row, firsts);
            }
        }
        _ => {
            for (row, (&view, id)) in views.iter().zip(ids.iter_mut()).enumerate() {
                let prefix = before.map_or(0, |ids| ids[row]);
                let key = match &nulls {
                    Some(nulls) if nulls.is_null(row) => (prefix | NULL_KEY, 0),
                    _ => (prefix, view),
                };
                *id = table.id(key, row, firsts);
            }
        }
    }
    Ok(())
}

/// An open-addressing table from a key (an id and a view) to its id, kept between batches
/// and cleared for each.
#[derive(Default)]
struct KeyIds {
    /// Slots of (view, key id, id); an id of `u32::MAX` marks an empty slot.
    slots: Vec<(u128, u32, u32)>,
    len: usize,
}

impl KeyIds {
    const EMPTY: u32 = u32::MAX;

    fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill((0, 0, Self::EMPTY));
            self.len = 0;
        }
        if self.slots.is_empty() {
            self.grow();
        }
    }

    /// The id of `key`; a key not seen yet takes the next id, with `row` as its first row.
    #[inline]
    fn id(&mut self, (prefix, view): (u32, u128), row: usize, firsts: &mut Vec<u32>) -> u32 {
        let mask = self.slots.len() - 1;
        let mut slot = hash_key(prefix, view) as usize & mask;
        loop {
            let (v, p, id) = self.slots[slot];
            if id == Self::EMPTY {
                return self.insert(slot, (prefix, view), row, firsts);
            }
            if v == view && p == prefix {
                return id;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Puts a new key in the empty `slot`; grows the table (and finds the key a new slot)
    /// when it is half full.
    #[cold]
    #[inline(never)]
    fn insert(
        &mut self,
        mut slot: usize,
        (prefix, view): (u32, u128),
        row: usize,
        firsts: &mut Vec<u32>,
    ) -> u32 {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
            let mask = self.slots.len() - 1;
            slot = hash_key(prefix, view) as usize & mask;
            while self.slots[slot].2 != Self::EMPTY {
                slot = (slot + 1) & mask;
            }
        }
        let id = firsts.len() as u32;
        firsts.push(row as u32);
        self.slots[slot] = (view, prefix, id);
        self.len += 1;
        id
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(256);
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, Self::EMPTY); capacity]);
        let mask = capacity - 1;
        for (view, prefix, id) in old.into_iter().filter(|s| s.2 != Self::EMPTY) {
            let mut slot = hash_key(prefix, view) as usize & mask;
            while self.slots[slot].2 != Self::EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (view, prefix, id);
        }
    }
}

/// Mixes a key's id and both halves of its view (length and prefix; then the rest of a
/// short string, or the buffer and offset of a long one) with folded multiplies.
#[inline]
fn hash_key(prefix: u32, view: u128) -> u64 {
    mix(mix(view as u64 ^ u64::from(prefix).rotate_left(32)) ^ (view >> 64) as u64)
}

/// A folded multiply: the product's halves, xored.
#[inline]
fn mix(x: u64) -> u64 {
    let product = u128::from(x) * 0x9E37_79B9_7F4A_7C15;
    (product as u64) ^ ((product >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringViewArray};
    use arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    fn ids_of(keys: &[ArrayRef]) -> (Vec<u32>, Vec<u32>) {
        let mut local = LocalKeys::default();
        let firsts = local.number(keys).unwrap().unwrap().to_vec();
        (local.ids.clone(), firsts)
    }

    #[test]
    fn equal_views_and_nulls_share_an_id() {
        let long = "a string longer than twelve bytes";
        let strings = StringViewArray::from(vec![Some("a"), Some(long), None, Some("b")]);
        // `take` copies views, so rows 0 and 3 below hold the very same long view.
        let indices = UInt32Array::from(vec![1, 0, 2, 1, 0, 2, 3]);
        let column: ArrayRef = take(&strings, &indices, None).unwrap();
        let (ids, firsts) = ids_of(&[Arc::clone(&column)]);
        assert_eq!(ids, [0, 1, 2, 0, 1, 2, 3]);
        assert_eq!(firsts, [0, 1, 2, 6]);
    }

    #[test]
    fn an_empty_string_and_a_null_are_different_keys() {
        // Both have an all-zero view.
        let column: ArrayRef =
            Arc::new(StringViewArray::from(vec![Some(""), None, Some(""), None]));
        let (ids, firsts) = ids_of(&[Arc::clone(&column)]);
        assert_eq!((ids, firsts), (vec![0, 1, 0, 1], vec![0, 1]));
        let (ids, _) = ids_of(&[Arc::clone(&column), column]);
        assert_eq!(ids, [0, 1, 0, 1]);
    }

    #[test]
    fn keys_of_several_columns_are_numbered_as_tuples() {
        let a: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("x"),
            Some("x"),
            Some("y"),
            None,
            Some("x"),
            None,
        ]));
        let b: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("1"),
            Some("2"),
            Some("1"),
            Some("1"),
            Some("1"),
            Some("1"),
        ]));
        let (ids, firsts) = ids_of(&[a, b]);
        assert_eq!(ids, [0, 1, 2, 3, 0, 3]);
        assert_eq!(firsts, [0, 1, 2, 3]);
    }

    #[test]
    fn the_table_grows_past_its_first_size() {
        let values: Vec<String> = (0..5_000).map(|i| format!("value number {i}")).collect();
        let distinct = StringViewArray::from_iter_values(&values);
        let twice = UInt32Array::from_iter_values((0..5_000).chain(0..5_000));
        let (ids, firsts) = ids_of(&[take(&distinct, &twice, None).unwrap()]);
        assert_eq!(firsts, (0..5_000).collect::<Vec<u32>>());
        assert_eq!(ids[5_000..], ids[..5_000]);
    }

    /// A table of `rows` rows over 4 partitions: three string columns with nulls (few,
    /// some and many distinct values) and a number.
    fn table(rows: usize) -> Arc<MemTable> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("few", DataType::Utf8View, true),
            Field::new("some", DataType::Utf8View, true),
            Field::new("many", DataType::Utf8View, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = |part: usize| {
            let rows = (0..rows).map(|r| r * 4 + part);
            let text = |r: usize, modulo: usize, nulls: usize| {
                (!r.is_multiple_of(nulls)).then(|| format!("value {} of a long column", r % modulo))
            };
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringViewArray::from_iter(
                        rows.clone().map(|r| text(r, 7, 11)),
                    )),
                    Arc::new(StringViewArray::from_iter(
                        rows.clone().map(|r| text(r * 31, 300, 13)),
                    )),
                    Arc::new(StringViewArray::from_iter(
                        rows.clone()
                            .map(|r| (!r.is_multiple_of(17)).then(|| format!("row {r}"))),
                    )),
                    Arc::new(Int64Array::from_iter(
                        rows.map(|r| (!r.is_multiple_of(5)).then_some(r as i64)),
                    )),
                ],
            )
            .unwrap()
        };
        let partitions = (0..4).map(|p| (0..3).map(|_| batch(p)).collect()).collect();
        Arc::new(MemTable::try_new(schema, partitions).unwrap())
    }

    async fn sorted_csv(ctx: &SessionContext, sql: &str) -> (String, String) {
        let df = ctx.sql(sql).await.unwrap();
        let plan = df.clone().create_physical_plan().await.unwrap();
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        let batches = df.collect().await.unwrap();
        let mut lines: Vec<String> = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        (lines.join("\n"), shown)
    }

    #[tokio::test]
    async fn results_equal_datafusions_own_aggregation() {
        let queries = [
            "SELECT few, count(*), sum(n), min(n), max(some) FROM t GROUP BY few",
            "SELECT few, some, count(n), avg(n) FROM t GROUP BY few, some",
            "SELECT few, count(DISTINCT many) FROM t GROUP BY few",
            "SELECT many, count(*) FROM t GROUP BY many",
            "SELECT some, many, few, count(*) FILTER (WHERE n > 100) FROM t GROUP BY 1, 2, 3",
        ];
        for probe_rows in [100_000, 500] {
            let mut plain_config = super::super::session::session_config();
            plain_config
                .options_mut()
                .execution
                .skip_partial_aggregation_probe_rows_threshold = probe_rows;
            let plain = SessionContext::new_with_config(plain_config.clone());
            let ours = super::super::session::session_context();
            ours.state_ref()
                .write()
                .config_mut()
                .options_mut()
                .execution
                .skip_partial_aggregation_probe_rows_threshold = probe_rows;
            for ctx in [&plain, &ours] {
                ctx.register_table("t", table(2_000)).unwrap();
            }
            for sql in queries {
                let (expected, plain_plan) = sorted_csv(&plain, sql).await;
                let (got, our_plan) = sorted_csv(&ours, sql).await;
                assert!(
                    !plain_plan.contains("ViewGroupAggregateExec"),
                    "{plain_plan}"
                );
                assert!(
                    our_plan.contains("ViewGroupAggregateExec"),
                    "{sql}:\n{our_plan}"
                );
                assert_eq!(got, expected, "{sql} (probe after {probe_rows} rows)");
            }
        }
    }
}
