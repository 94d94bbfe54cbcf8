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

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
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
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PhysicalExpr, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream,
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
            rows: config.execution.skip_partial_aggregation_probe_rows_threshold,
            ratio: config.execution.skip_partial_aggregation_probe_ratio_threshold,
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
        let input = self.aggregate.input().execute(partition, Arc::clone(&context))?;
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

fn accumulators(aggregates: &[Arc<AggregateFunctionExpr>]) -> Result<Vec<Box<dyn GroupsAccumulator>>> {
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
    /// One key column's ids, while the columns are combined.
    column_ids: Vec<u32>,
    views: HashMap<u128, u32, BuildHasherDefault<MixHasher>>,
    pairs: HashMap<u64, u32, BuildHasherDefault<MixHasher>>,
}

impl LocalKeys {
    /// Numbers the rows of `keys` (`Utf8View` columns of one batch); returns the first row of
    /// each distinct key, or `None` for an empty batch.
    fn number(&mut self, keys: &[ArrayRef]) -> Result<Option<&[u32]>> {
        let rows = keys.first().map_or(0, |k| k.len());
        if rows == 0 {
            return Ok(None);
        }
        if rows > u32::MAX as usize {
            return internal_err!("a batch of {rows} rows is too long to group");
        }
        let mut columns = keys.iter();
        let first = columns.next().expect("a grouping has at least one key");
        let mut ids = std::mem::take(&mut self.ids);
        let mut firsts = std::mem::take(&mut self.firsts);
        self.number_views(first, &mut ids, &mut firsts)?;
        for column in columns {
            let mut column_ids = std::mem::take(&mut self.column_ids);
            let mut unused = Vec::new();
            self.number_views(column, &mut column_ids, &mut unused)?;
            // A row's key is the pair (key so far, this column's id).
            self.pairs.clear();
            firsts.clear();
            for (row, (id, column_id)) in ids.iter_mut().zip(&column_ids).enumerate() {
                let pair = (u64::from(*id) << 32) | u64::from(*column_id);
                let next = firsts.len() as u32;
                *id = *self.pairs.entry(pair).or_insert_with(|| {
                    firsts.push(row as u32);
                    next
                });
            }
            self.column_ids = column_ids;
        }
        self.ids = ids;
        self.firsts = firsts;
        Ok(Some(&self.firsts))
    }

    /// Numbers one column's distinct views into `ids`, with each id's first row in `firsts`.
    fn number_views(
        &mut self,
        column: &ArrayRef,
        ids: &mut Vec<u32>,
        firsts: &mut Vec<u32>,
    ) -> Result<()> {
        let Some(strings) = column.as_string_view_opt() else {
            return internal_err!("a group key is {}, not Utf8View", column.data_type());
        };
        ids.clear();
        firsts.clear();
        self.views.clear();
        let views = strings.views();
        let mut null_id = None;
        for (row, view) in views.iter().enumerate() {
            let next = firsts.len() as u32;
            let id = if strings.is_null(row) {
                *null_id.get_or_insert_with(|| {
                    firsts.push(row as u32);
                    next
                })
            } else {
                *self.views.entry(*view).or_insert_with(|| {
                    firsts.push(row as u32);
                    next
                })
            };
            ids.push(id);
        }
        Ok(())
    }
}

/// A hasher for 16-byte views and packed id pairs: a folded multiply of the halves.
#[derive(Default)]
struct MixHasher(u64);

impl MixHasher {
    fn mix(x: u64) -> u64 {
        let product = u128::from(x) * 0x9E37_79B9_7F4A_7C15;
        (product as u64) ^ ((product >> 64) as u64)
    }
}

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = Self::mix(self.0 ^ u64::from(*byte));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = Self::mix(self.0 ^ value);
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = Self::mix(Self::mix(self.0 ^ value as u64) ^ (value >> 64) as u64);
    }
}
