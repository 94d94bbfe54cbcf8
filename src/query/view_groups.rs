//! Grouping by strings, one distinct view at a time.
//!
//! The group keys of audit queries are nearly always strings of the `eventdata` struct
//! (event name, source, error code, principal, address), read as `Utf8View`
//! ([`super::view_strings`]). DataFusion's partial aggregation hashes and compares every row's
//! string to find its group; on the benchmark that is most of the time of counts by event
//! name.
//!
//! [`ViewGroupAggregateExec`] keeps its own group table ([`super::view_keys`]), which looks
//! strings up once per distinct view of a batch and then groups rows by integer ids. Its
//! groups are DataFusion's, row for row; DataFusion's accumulators compute the aggregates.
//!
//! [`GroupByViews`] puts it in place of the partial aggregates it can stand for: one plain
//! grouping over `Utf8View` keys, aggregates with a groups accumulator and no ORDER BY of
//! their own, and no limit or dynamic filter attached. As DataFusion's own partial aggregate
//! does, it stops aggregating across batches once the groups outnumber most of the rows seen.
//! Where it can, it also has the scan below read its keys as dictionaries
//! ([`super::dictionary_keys`]); its output keeps `Utf8View` keys either way.

use std::collections::VecDeque;
use std::sync::Arc;

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
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

use super::dictionary_keys::read_keys_as_dictionaries;
use super::view_keys::ViewKeys;

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
            // Reading keys as dictionaries only speeds the plan up: a plan it cannot build
            // runs as planned.
            let dictionaries = read_keys_as_dictionaries(aggregate).ok().flatten();
            let exec = ViewGroupAggregateExec {
                input: dictionaries
                    .clone()
                    .unwrap_or_else(|| Arc::clone(aggregate.input())),
                dictionary_keys: dictionaries.is_some(),
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

/// A partial aggregate over `Utf8View` group keys, grouped with [`ViewKeys`]: each batch's
/// distinct strings looked up once, rows grouped by integer ids. Its plan, schema and output
/// are those of `aggregate`.
#[derive(Debug)]
pub struct ViewGroupAggregateExec {
    aggregate: Arc<AggregateExec>,
    /// The input read: the aggregate's own, or one that reads some of its string keys as
    /// dictionaries ([`read_keys_as_dictionaries`]).
    input: Arc<dyn ExecutionPlan>,
    dictionary_keys: bool,
    skip: SkipProbe,
    metrics: ExecutionPlanMetricsSet,
}

impl DisplayAs for ViewGroupAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "ViewGroup")?;
        self.aggregate.fmt_as(t, f)?;
        if self.dictionary_keys {
            write!(f, ", keys read as dictionaries")?;
        }
        Ok(())
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
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = &children[..] else {
            return internal_err!("an aggregate takes one input, not {}", children.len());
        };
        let aggregate = if self.dictionary_keys {
            // The aggregate keeps the input of view keys it was planned over, which gives
            // its schema and expressions; the new input must split the rows alike.
            let partitions =
                |p: &Arc<dyn ExecutionPlan>| p.properties().partitioning.partition_count();
            if partitions(input) != partitions(self.aggregate.input()) {
                return internal_err!("an input of dictionary keys cannot change partitioning");
            }
            Arc::clone(&self.aggregate)
        } else {
            let aggregate = Arc::clone(&self.aggregate).replace_children(
                children.clone(),
                ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
            )?;
            let Some(aggregate) = aggregate.downcast_ref::<AggregateExec>() else {
                return internal_err!("an aggregate with new children is no longer an aggregate");
            };
            Arc::new(aggregate.clone())
        };
        Ok(Arc::new(ViewGroupAggregateExec {
            aggregate,
            input: Arc::clone(input),
            dictionary_keys: self.dictionary_keys,
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
        let input = self.input.execute(partition, Arc::clone(&context))?;
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
    schema: SchemaRef,
    keys: ViewKeys,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
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
            keys: ViewKeys::new(aggregate.group_expr().expr().len()),
            accumulators: accumulators(&aggregates)?,
            aggregates,
            schema: aggregate.schema(),
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
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.keys.intern(&keys, &mut self.group_indices)?;
        let total = self.keys.len();
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
        if self.keys.is_empty() {
            return Ok(());
        }
        let mut columns = self.keys.emit()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringViewArray};
    use arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

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
